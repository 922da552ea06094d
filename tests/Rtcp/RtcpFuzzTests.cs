using CsCheck;
using TeleRehab.Media.Rtcp;

namespace TeleRehab.Media.Tests.Rtcp;

/// <summary>Random and mutated input must be rejected (or parsed) without exceptions.</summary>
public class RtcpFuzzTests
{
    private static void ParseAll(byte[] bytes)
    {
        if (SenderReport.TryParse(bytes, out var sr)) foreach (var _ in sr.ReportBlocks) { }
        if (ReceiverReport.TryParse(bytes, out var rr)) foreach (var _ in rr.ReportBlocks) { }
        _ = SourceDescription.TryParse(bytes, out _);
        if (Goodbye.TryParse(bytes, out var bye)) foreach (var _ in bye.Sources) { }
        if (TransportLayerNack.TryParse(bytes, out var nack)) foreach (var _ in nack.LostSequenceNumbers) { }
        _ = PictureLossIndication.TryParse(bytes, out _);
        if (FullIntraRequest.TryParse(bytes, out var fir)) foreach (var _ in fir.Entries) { }
        if (ReceiverEstimatedMaxBitrate.TryParse(bytes, out var remb)) foreach (var _ in remb.Ssrcs) { }
        if (TransportWideFeedback.TryParse(bytes, out var twcc)) foreach (var _ in twcc) { }
        var reader = new RtcpCompoundReader(bytes);
        int total = 0;
        foreach (var p in reader) total += p.Packet.Length;
        Assert.InRange(total, 0, bytes.Length);
    }

    [Fact]
    public void Random_bytes()
    {
        Gen.Byte.Array[0, 300].Sample(ParseAll, iter: 20000);
    }

    [Fact]
    public void Random_bodies_behind_plausible_headers()
    {
        // V=2, random P/count, a real packet type, a length field matching the buffer or off by a little.
        byte[] types = [200, 201, 202, 203, 205, 206];
        Gen.Select(Gen.Int[0, 5], Gen.Byte[0, 63], Gen.Int[-2, 2], Gen.Byte.Array[0, 120]).Sample((t, countAndP, lengthSkew, body) =>
        {
            var bytes = new byte[4 + body.Length];
            bytes[0] = (byte)(0x80 | (countAndP & 0x3F));
            bytes[1] = types[t];
            int words = Math.Max(0, (bytes.Length + 3) / 4 - 1 + lengthSkew);
            bytes[2] = (byte)(words >> 8);
            bytes[3] = (byte)words;
            body.CopyTo(bytes, 4);
            ParseAll(bytes);
        }, iter: 30000);
    }

    [Fact]
    public void Truncations_of_valid_packets_are_rejected()
    {
        var buffer = new byte[200];
        var builder = new TransportWideFeedbackBuilder(1, 2, 3);
        for (int i = 0; i < 30; i++) builder.TryAddReceivedPacket((ushort)(i * 2), TimeSpan.FromMilliseconds(i * 3));
        int length = builder.WriteTo(buffer);
        for (int cut = 0; cut < length; cut++)
        {
            Assert.False(TransportWideFeedback.TryParse(buffer.AsSpan(0, cut), out _));
            Assert.False(RtcpCompoundReader.Validate(buffer.AsSpan(0, cut)));
        }
        Assert.True(TransportWideFeedback.TryParse(buffer.AsSpan(0, length), out _));
    }
}
