namespace TeleRehab.Media.Tests.Dtls;

/// <summary>One DTLS record of a datagram (RFC 6347 §4.1): header fields and the whole record's bytes.</summary>
internal sealed record DtlsRecordView(byte ContentType, int Epoch, long Sequence, byte[] Bytes)
{
    public const byte ChangeCipherSpec = 20;
    public const byte Handshake = 22;

    /// <summary>Handshake type of the first message in a plaintext (epoch 0) handshake record, else -1.</summary>
    public int HandshakeType => ContentType == Handshake && Epoch == 0 && Bytes.Length > 13 ? Bytes[13] : -1;

    public static List<DtlsRecordView> Split(byte[] datagram)
    {
        var records = new List<DtlsRecordView>();
        int offset = 0;
        while (datagram.Length - offset >= 13)
        {
            int length = 13 + ((datagram[offset + 11] << 8) | datagram[offset + 12]);
            if (offset + length > datagram.Length)
                break;
            long sequence = 0;
            for (int i = 5; i < 11; i++)
                sequence = (sequence << 8) | datagram[offset + i];
            records.Add(new DtlsRecordView(datagram[offset], (datagram[offset + 3] << 8) | datagram[offset + 4], sequence,
                datagram.AsSpan(offset, length).ToArray()));
            offset += length;
        }
        return records;
    }
}

/// <summary>
/// A seeded lossy, reordering, duplicating link working on records as well as datagrams: each datagram is
/// either kept whole or split into its records, and each unit may be lost, duplicated or held back for one to
/// three later units of the same direction. Thread-safe.
/// </summary>
internal sealed class ImpairedLink(int seed, double loss = 0.15, double reorder = 0.25, double duplicate = 0.05)
{
    private readonly object _lock = new();
    private readonly Random _random = new(seed);
    private readonly List<(byte[] Datagram, int Countdown)> _held = new();

    public int Lost { get; private set; }
    public int Reordered { get; private set; }

    public IReadOnlyList<byte[]> Carry(byte[] datagram)
    {
        var deliver = new List<byte[]>();
        lock (_lock)
        {
            var units = _random.NextDouble() < 0.5
                ? DtlsRecordView.Split(datagram).Select(r => r.Bytes).ToList()
                : [datagram];
            foreach (var unit in units)
            {
                // Earlier held units become due as later ones pass.
                for (int i = 0; i < _held.Count; i++)
                    _held[i] = (_held[i].Datagram, _held[i].Countdown - 1);
                deliver.AddRange(_held.Where(h => h.Countdown <= 0).Select(h => h.Datagram));
                _held.RemoveAll(h => h.Countdown <= 0);

                if (_random.NextDouble() < loss)
                {
                    Lost++;
                    continue;
                }
                if (_random.NextDouble() < reorder)
                {
                    Reordered++;
                    _held.Add((unit, _random.Next(1, 4)));
                    continue;
                }
                deliver.Add(unit);
                if (_random.NextDouble() < duplicate)
                    deliver.Add(unit);
            }
        }
        return deliver;
    }
}
