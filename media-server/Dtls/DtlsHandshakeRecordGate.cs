using System.Buffers;

namespace TeleRehab.Media.Dtls;

/// <summary>
/// Orders the peer's records during the handshake so BouncyCastle never sees the peer's ChangeCipherSpec before
/// the handshake messages that precede it in the peer's flight.
/// <para>Why: BouncyCastle 2.7 switches its read epoch as soon as an epoch-0 ChangeCipherSpec arrives while a
/// pending cipher exists (the server creates it after ClientKeyExchange). From then on it drops every epoch-0
/// record, because during the handshake it keeps no "retransmit epoch" for the peer's old epoch. So when the
/// client's CertificateVerify is lost or overtaken by its ChangeCipherSpec, every retransmitted CertificateVerify
/// is discarded and the handshake can only time out (the problem reported as bc-java#229).</para>
/// <para>What: RFC 6347 §4.1.2.1 lets a receiver buffer records of a future epoch until the epoch is in use, and
/// §4.2.4 requires the handshake to survive reordering and loss. So we hold an epoch-0 ChangeCipherSpec until every
/// handshake message that RFC 5246 §7.3 puts before it in the peer's flight has arrived complete (the records are
/// in plaintext at epoch 0, so their headers can be read here), and hold epoch-1 records (the peer's Finished) until
/// that ChangeCipherSpec has been passed on. Then they are re-injected in protocol order. Records are never dropped
/// for being early; a lost message still comes with the peer's retransmitted flight (§4.2.4), after which the held
/// ChangeCipherSpec is released without waiting for a further round.</para>
/// <para>The flights before the ChangeCipherSpec (full handshake; we do not resume sessions):
/// from a client: [Certificate] ClientKeyExchange [CertificateVerify, when the Certificate is non-empty];
/// from a server: ... ServerHelloDone (flight 4), then [NewSessionTicket] in flight 6.</para>
/// Not thread-safe: the owner serializes calls. Used on the handshake path only.
/// </summary>
internal sealed class DtlsHandshakeRecordGate
{
    private const int RecordHeaderLength = 13;
    private const int MessageHeaderLength = 12;
    private const byte ChangeCipherSpec = 20;
    private const byte Handshake = 22;
    private const byte CertificateType = 11;
    private const byte ServerHelloDone = 14;
    private const byte ClientKeyExchange = 16;
    private const byte CertificateVerify = 15;
    private const byte NewSessionTicket = 4;
    /// <summary>Handshake message_seq values tracked (a full DTLS 1.2 handshake uses fewer than ten per side).</summary>
    private const int MaxTrackedMessages = 32;
    /// <summary>Early records of the next epoch kept at most (a Finished, perhaps a few application records).</summary>
    private const int MaxHeldRecords = 16;

    private readonly bool _peerIsClient;
    private readonly MessageCoverage?[] _messages = new MessageCoverage?[MaxTrackedMessages];
    private readonly List<(byte[] Buffer, int Length)> _heldNextEpoch = new();
    private (byte[] Buffer, int Length)? _heldCcs;
    private bool _ccsPassed;

    /// <param name="localRole">Our role; the peer has the other one.</param>
    public DtlsHandshakeRecordGate(DtlsRole localRole) => _peerIsClient = localRole == DtlsRole.Server;

    /// <summary>A ChangeCipherSpec is waiting for the handshake messages before it.</summary>
    public bool HoldsChangeCipherSpec => _heldCcs is not null;

    /// <summary>Records of the next epoch waiting for the ChangeCipherSpec.</summary>
    public int HeldRecordCount => _heldNextEpoch.Count + (_heldCcs is null ? 0 : 1);

    /// <summary>
    /// Splits a datagram into records (RFC 6347 §4.1.1: several may share one datagram) and appends to
    /// <paramref name="ready"/>, in the order BouncyCastle must see them, every record it may process now
    /// (pooled copies; the consumer returns them to <see cref="ArrayPool{T}.Shared"/>). A malformed tail is dropped,
    /// as the record layer would (RFC 6347 §4.1.2.7).
    /// </summary>
    public void Admit(ReadOnlySpan<byte> datagram, Queue<(byte[] Buffer, int Length)> ready)
    {
        while (datagram.Length >= RecordHeaderLength)
        {
            int total = RecordHeaderLength + ((datagram[11] << 8) | datagram[12]);
            if (total > datagram.Length)
                return;
            var record = datagram[..total];
            datagram = datagram[total..];

            byte type = record[0];
            int epoch = (record[3] << 8) | record[4];
            if (_ccsPassed)
            {
                // Past the switch BouncyCastle's own epoch checks apply (stale epoch-0 records are dropped there).
                ready.Enqueue(Copy(record));
            }
            else if (epoch == 0 && type == ChangeCipherSpec)
            {
                if (IsPeerFlightComplete())
                {
                    ready.Enqueue(Copy(record));
                    PassChangeCipherSpec(ready, includeHeld: false);
                }
                else
                {
                    // Keep one (every retransmission of it is equivalent).
                    ReturnHeldCcs();
                    _heldCcs = Copy(record);
                }
            }
            else if (epoch == 0 && type == Handshake)
            {
                Track(record[RecordHeaderLength..]);
                ready.Enqueue(Copy(record));
                if (_heldCcs is not null && IsPeerFlightComplete())
                    PassChangeCipherSpec(ready, includeHeld: true);
            }
            else if (epoch == 1)
            {
                // Its epoch is not readable yet: BouncyCastle would drop it (RFC 6347 §4.1.2.1 allows buffering).
                if (_heldNextEpoch.Count < MaxHeldRecords)
                    _heldNextEpoch.Add(Copy(record));
            }
            else
            {
                ready.Enqueue(Copy(record));
            }
        }
    }

    /// <summary>Returns every held record to the pool (handshake over or aborted).</summary>
    public void Clear()
    {
        ReturnHeldCcs();
        foreach (var (buffer, _) in _heldNextEpoch)
            ArrayPool<byte>.Shared.Return(buffer);
        _heldNextEpoch.Clear();
    }

    private void PassChangeCipherSpec(Queue<(byte[] Buffer, int Length)> ready, bool includeHeld)
    {
        _ccsPassed = true;
        if (includeHeld && _heldCcs is { } ccs)
        {
            ready.Enqueue(ccs);
            _heldCcs = null;
        }
        ReturnHeldCcs();
        foreach (var record in _heldNextEpoch)
            ready.Enqueue(record);
        _heldNextEpoch.Clear();
    }

    private void ReturnHeldCcs()
    {
        if (_heldCcs is { } held)
            ArrayPool<byte>.Shared.Return(held.Buffer);
        _heldCcs = null;
    }

    private static (byte[] Buffer, int Length) Copy(ReadOnlySpan<byte> record)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(record.Length);
        record.CopyTo(buffer);
        return (buffer, record.Length);
    }

    /// <summary>Notes which bytes of which handshake messages arrived (RFC 6347 §4.2.2 message header).</summary>
    private void Track(ReadOnlySpan<byte> fragments)
    {
        while (fragments.Length >= MessageHeaderLength)
        {
            byte msgType = fragments[0];
            int length = (fragments[1] << 16) | (fragments[2] << 8) | fragments[3];
            int seq = (fragments[4] << 8) | fragments[5];
            int offset = (fragments[6] << 16) | (fragments[7] << 8) | fragments[8];
            int fragmentLength = (fragments[9] << 16) | (fragments[10] << 8) | fragments[11];
            if (MessageHeaderLength + fragmentLength > fragments.Length || (long)offset + fragmentLength > length)
                return;
            if (seq < MaxTrackedMessages)
                (_messages[seq] ??= new MessageCoverage(msgType, length)).Add(msgType, length, offset, fragmentLength);
            fragments = fragments[(MessageHeaderLength + fragmentLength)..];
        }
    }

    /// <summary>
    /// Whether every message the peer sends before its ChangeCipherSpec has arrived complete, together with all
    /// messages before it (BouncyCastle consumes them strictly in message_seq order).
    /// </summary>
    private bool IsPeerFlightComplete()
    {
        int last = -1;
        for (int seq = 0; seq < MaxTrackedMessages; seq++)
        {
            var message = _messages[seq];
            if (message is null || !message.IsComplete)
                break;
            if (_peerIsClient ? message.Type == ClientKeyExchange : message.Type == ServerHelloDone)
            {
                last = seq;
                break;
            }
        }
        if (last < 0)
            return false;

        if (_peerIsClient)
        {
            // RFC 5246 §7.4.8: CertificateVerify follows a client Certificate that carries a certificate
            // (its body is more than the 3-byte empty certificate_list).
            bool sentCertificate = false;
            for (int seq = 0; seq < last; seq++)
                sentCertificate |= _messages[seq]!.Type == CertificateType && _messages[seq]!.Length > 3;
            if (!sentCertificate)
                return true;
            var verify = last + 1 < MaxTrackedMessages ? _messages[last + 1] : null;
            return verify is { Type: CertificateVerify, IsComplete: true };
        }

        // A server that issues a ticket sends NewSessionTicket right before its ChangeCipherSpec (RFC 5077 §3.3).
        var ticket = last + 1 < MaxTrackedMessages ? _messages[last + 1] : null;
        return ticket is null || ticket.Type != NewSessionTicket || ticket.IsComplete;
    }

    /// <summary>Byte ranges received of one handshake message (fragments may overlap or repeat).</summary>
    private sealed class MessageCoverage(byte type, int length)
    {
        private readonly List<(int Start, int End)> _ranges = new();

        public byte Type { get; } = type;
        public int Length { get; } = length;
        public bool IsComplete { get; private set; }

        public void Add(byte type, int length, int offset, int fragmentLength)
        {
            // A fragment disagreeing with the first one seen is ignored, as BouncyCastle's reassembler does.
            if (IsComplete || type != Type || length != Length)
                return;
            if (Length == 0)
            {
                IsComplete = true;
                return;
            }
            if (fragmentLength == 0 || _ranges.Count >= 256)
                return;
            int start = offset, end = offset + fragmentLength;
            int i = 0;
            while (i < _ranges.Count && _ranges[i].End < start)
                i++;
            while (i < _ranges.Count && _ranges[i].Start <= end)
            {
                start = Math.Min(start, _ranges[i].Start);
                end = Math.Max(end, _ranges[i].End);
                _ranges.RemoveAt(i);
            }
            _ranges.Insert(i, (start, end));
            IsComplete = _ranges.Count == 1 && _ranges[0].Start == 0 && _ranges[0].End == Length;
        }
    }
}
