using System.Buffers;
using CsCheck;
using TeleRehab.Media.Dtls;

namespace TeleRehab.Media.Tests.Dtls;

public class DtlsHandshakeRecordGateTests
{
    private const byte ClientHello = 1, ServerHello = 2, Certificate = 11, ServerHelloDone = 14, CertificateVerify = 15,
        ClientKeyExchange = 16;

    private static long s_sequence;

    private static byte[] Record(byte contentType, int epoch, byte[] body)
    {
        var record = new byte[13 + body.Length];
        record[0] = contentType;
        record[1] = 0xFE;
        record[2] = 0xFD;
        record[3] = (byte)(epoch >> 8);
        record[4] = (byte)epoch;
        long seq = Interlocked.Increment(ref s_sequence);
        for (int i = 0; i < 6; i++)
            record[10 - i] = (byte)(seq >> (8 * i));
        record[11] = (byte)(body.Length >> 8);
        record[12] = (byte)body.Length;
        body.CopyTo(record, 13);
        return record;
    }

    /// <summary>A plaintext handshake record with one fragment of a message of <paramref name="length"/> bytes.</summary>
    private static byte[] Message(byte type, int seq, int length, int offset = 0, int? fragmentLength = null)
    {
        int fragment = fragmentLength ?? length - offset;
        var body = new byte[12 + fragment];
        body[0] = type;
        body[1] = (byte)(length >> 16); body[2] = (byte)(length >> 8); body[3] = (byte)length;
        body[4] = (byte)(seq >> 8); body[5] = (byte)seq;
        body[6] = (byte)(offset >> 16); body[7] = (byte)(offset >> 8); body[8] = (byte)offset;
        body[9] = (byte)(fragment >> 16); body[10] = (byte)(fragment >> 8); body[11] = (byte)fragment;
        return Record(22, 0, body);
    }

    private static byte[] Ccs() => Record(20, 0, [1]);

    private static byte[] Finished() => Record(22, 1, new byte[40]);

    /// <summary>Feeds datagrams through a gate and returns what it released, in order.</summary>
    private static List<byte[]> Run(DtlsRole role, params byte[][] datagrams)
    {
        var gate = new DtlsHandshakeRecordGate(role);
        var ready = new Queue<(byte[] Buffer, int Length)>();
        foreach (var datagram in datagrams)
            gate.Admit(datagram, ready);
        var released = ready.Select(r => r.Buffer.AsSpan(0, r.Length).ToArray()).ToList();
        foreach (var (buffer, _) in ready)
            ArrayPool<byte>.Shared.Return(buffer);
        gate.Clear();
        return released;
    }

    [Fact]
    public void Server_holds_change_cipher_spec_and_finished_until_certificate_verify_arrives()
    {
        byte[] hello = Message(ClientHello, 0, 100), cert = Message(Certificate, 1, 300), cke = Message(ClientKeyExchange, 2, 66),
            ccs = Ccs(), fin = Finished(), verify = Message(CertificateVerify, 3, 72);

        var released = Run(DtlsRole.Server, hello, [.. cert, .. cke], ccs, fin, verify);

        Assert.Equal([hello, cert, cke, verify, ccs, fin], released);
    }

    [Fact]
    public void In_order_flight_in_one_datagram_passes_unchanged()
    {
        byte[] hello = Message(ClientHello, 0, 100), cert = Message(Certificate, 1, 300), cke = Message(ClientKeyExchange, 2, 66),
            verify = Message(CertificateVerify, 3, 72), ccs = Ccs(), fin = Finished();

        var released = Run(DtlsRole.Server, hello, [.. cert, .. cke, .. verify, .. ccs, .. fin]);

        Assert.Equal([hello, cert, cke, verify, ccs, fin], released);
    }

    [Fact]
    public void A_fragmented_certificate_verify_must_be_complete_before_the_change_cipher_spec_passes()
    {
        byte[] hello = Message(ClientHello, 0, 100), cert = Message(Certificate, 1, 300), cke = Message(ClientKeyExchange, 2, 66),
            part2 = Message(CertificateVerify, 3, 72, 40), part1 = Message(CertificateVerify, 3, 72, 0, 50),
            ccs = Ccs(), fin = Finished();

        var released = Run(DtlsRole.Server, hello, cert, cke, part2, ccs, fin, part1);

        Assert.Equal([hello, cert, cke, part2, part1, ccs, fin], released);
    }

    [Fact]
    public void A_missing_earlier_message_also_holds_the_change_cipher_spec()
    {
        // The Certificate was lost; its retransmission (and the rest of the flight) comes later.
        byte[] hello = Message(ClientHello, 0, 100), cke = Message(ClientKeyExchange, 2, 66),
            verify = Message(CertificateVerify, 3, 72), ccs = Ccs(), fin = Finished(), cert = Message(Certificate, 1, 300),
            ccs2 = Ccs();

        var released = Run(DtlsRole.Server, hello, cke, verify, ccs, fin, cert, ccs2);

        // The first ChangeCipherSpec goes right after the Certificate completes the flight; the retransmitted one
        // then passes too (BouncyCastle ignores it: its epoch is over).
        Assert.Equal([hello, cke, verify, cert, ccs, fin, ccs2], released);
    }

    [Fact]
    public void A_client_with_an_empty_certificate_sends_no_certificate_verify()
    {
        byte[] hello = Message(ClientHello, 0, 100), cert = Message(Certificate, 1, 3), ccs = Ccs(), fin = Finished(),
            cke = Message(ClientKeyExchange, 2, 66);

        var released = Run(DtlsRole.Server, hello, cert, ccs, fin, cke);

        Assert.Equal([hello, cert, cke, ccs, fin], released);
    }

    [Fact]
    public void Client_holds_the_server_finished_until_its_change_cipher_spec()
    {
        byte[] serverHello = Message(ServerHello, 0, 80), done = Message(ServerHelloDone, 4, 0),
            rest = [.. Message(Certificate, 1, 400), .. Message(12, 2, 100), .. Message(13, 3, 20)],
            fin = Finished(), ccs = Ccs(), appData = Record(23, 1, new byte[30]);

        var released = Run(DtlsRole.Client, [.. serverHello, .. rest, .. done], fin, appData, ccs);

        Assert.Equal(8, released.Count);
        Assert.Equal(done, released[4]);
        Assert.Equal([ccs, fin, appData], released[5..]);
    }

    [Fact]
    public void Without_a_complete_flight_nothing_of_the_next_epoch_is_released()
    {
        var released = Run(DtlsRole.Server, Message(ClientHello, 0, 100), Ccs(), Finished(), Message(ClientKeyExchange, 2, 66));

        Assert.Equal(2, released.Count);
        Assert.All(released, r => Assert.Equal(22, r[0]));
    }

    [Fact]
    public void Malformed_tails_are_dropped_and_other_records_pass()
    {
        byte[] alert = Record(21, 0, [2, 40]);
        byte[] truncated = [.. Record(22, 0, new byte[20]).AsSpan(0, 25)];
        var released = Run(DtlsRole.Server, [.. alert, .. truncated], [1, 2, 3]);

        Assert.Equal([alert], released);
    }

    [Fact]
    public void Random_input_never_throws_and_released_records_are_well_formed()
    {
        Gen.Byte.Array[0, 300].Array[1, 6].Sample(datagrams =>
        {
            foreach (var role in new[] { DtlsRole.Client, DtlsRole.Server })
            {
                foreach (var record in Run(role, datagrams))
                    Assert.Equal(13 + ((record[11] << 8) | record[12]), record.Length);
            }
        });
    }

    [Fact]
    public void Random_handshake_fragments_never_throw()
    {
        var gen = Gen.Select(Gen.Byte[0, 20], Gen.Int[0, 40], Gen.Int[0, 600], Gen.Int[0, 600], Gen.Int[0, 300]);
        gen.Array[1, 20].Sample(fragments =>
        {
            var datagrams = fragments.Select(f => Message(f.Item1, f.Item2, f.Item3, Math.Min(f.Item4, f.Item3),
                Math.Min(f.Item5, f.Item3 - Math.Min(f.Item4, f.Item3)))).Append(Ccs()).Append(Finished()).ToArray();
            foreach (var role in new[] { DtlsRole.Client, DtlsRole.Server })
                Assert.InRange(Run(role, datagrams).Count, fragments.Length, fragments.Length + 2);
        });
    }
}
