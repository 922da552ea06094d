using CsCheck;
using TeleRehab.Media.Rtcp;
using static TeleRehab.Media.Tests.Rtcp.RtcpKnownVectorTests;

namespace TeleRehab.Media.Tests.Rtcp;

public class RtcpRoundTripTests
{
    private static readonly Gen<ReportBlock> GenBlock =
        Gen.Select(Gen.UInt, Gen.Byte, Gen.Int[ReportBlock.MinCumulativeLost, ReportBlock.MaxCumulativeLost],
            Gen.UInt, Gen.UInt, Gen.UInt, Gen.UInt)
        .Select((ssrc, fraction, lost, highest, jitter, lsr, dlsr) => new ReportBlock(ssrc, fraction, lost, highest, jitter, lsr, dlsr));

    private static readonly Gen<byte[]> GenExtension = Gen.UInt.Array[0, 3].Select(words =>
        words.SelectMany(w => BitConverter.GetBytes(w)).ToArray());

    [Fact]
    public void Sender_report()
    {
        Gen.Select(Gen.UInt, Gen.ULong, Gen.UInt, Gen.UInt, Gen.UInt, GenBlock.Array[0, 31], GenExtension)
            .Sample((ssrc, ntp, rtp, packets, octets, blocks, ext) =>
        {
            var bytes = Write(new SenderReport(ssrc, ntp, rtp, packets, octets, blocks, ext));
            Assert.True(RtcpCompoundReader.Validate(bytes));
            Assert.True(SenderReport.TryParse(bytes, out var sr));
            Assert.Equal((ssrc, ntp, rtp, packets, octets), (sr.Ssrc, sr.NtpTimestamp, sr.RtpTimestamp, sr.PacketCount, sr.OctetCount));
            Assert.Equal(blocks, ToArray(sr.ReportBlocks));
            Assert.Equal(ext, sr.ProfileExtensions.ToArray());
            Assert.Equal(bytes, Write(sr));
        });
    }

    [Fact]
    public void Receiver_report()
    {
        Gen.Select(Gen.UInt, GenBlock.Array[0, 31], GenExtension).Sample((ssrc, blocks, ext) =>
        {
            var bytes = Write(new ReceiverReport(ssrc, blocks, ext));
            Assert.True(ReceiverReport.TryParse(bytes, out var rr));
            Assert.Equal(ssrc, rr.Ssrc);
            Assert.Equal(blocks, ToArray(rr.ReportBlocks));
            Assert.Equal(ext, rr.ProfileExtensions.ToArray());
            Assert.Equal(bytes, Write(rr));
        });
    }

    [Fact]
    public void Source_description()
    {
        var genItem = Gen.Select(Gen.Byte[1, 8], Gen.String[Gen.Char.AlphaNumeric, 0, 60])
            .Select((type, text) => new SdesItem((SdesItemType)type, text));
        var genChunk = Gen.Select(Gen.UInt, genItem.Array[0, 4]).Select((ssrc, items) => new SdesChunk(ssrc, items));
        genChunk.Array[0, 5].Sample(chunks =>
        {
            var bytes = Write(new SourceDescription(chunks));
            Assert.True(RtcpCompoundReader.Validate(bytes));
            Assert.True(SourceDescription.TryParse(bytes, out var sdes));
            Assert.Equal(chunks.Length, sdes!.Chunks.Count);
            for (int i = 0; i < chunks.Length; i++)
            {
                Assert.Equal(chunks[i].Ssrc, sdes.Chunks[i].Ssrc);
                Assert.Equal(chunks[i].Items, sdes.Chunks[i].Items);
            }
            Assert.Equal(bytes, Write(sdes));
        });
    }

    [Fact]
    public void Goodbye()
    {
        Gen.Select(Gen.UInt.Array[0, 31], Gen.Byte.Array[0, 255]).Sample((ssrcs, reason) =>
        {
            var entries = ssrcs.Select(s => new SsrcEntry(s)).ToArray();
            var bytes = Write(new Goodbye(entries, reason));
            Assert.True(TeleRehab.Media.Rtcp.Goodbye.TryParse(bytes, out var bye));
            Assert.Equal(entries, ToArray(bye.Sources));
            Assert.Equal(reason, bye.Reason.ToArray());
        });
    }

    [Fact]
    public void Nack_from_lost_sequence_numbers()
    {
        Gen.Select(Gen.UInt, Gen.UInt, Gen.UShort, Gen.Int[1, 40].Array[1, 100]).Sample((sender, media, start, steps) =>
        {
            var lost = new List<ushort>();
            int offset = 0;
            foreach (var step in steps) { lost.Add((ushort)(start + offset)); offset += step; }
            var pairs = new NackPair[TransportLayerNack.GetPairCount(lost.ToArray())];
            Assert.Equal(pairs.Length, TransportLayerNack.BuildPairs(lost.ToArray(), pairs));
            var bytes = Write(new TransportLayerNack(sender, media, pairs));
            Assert.True(TransportLayerNack.TryParse(bytes, out var nack));
            Assert.Equal((sender, media), (nack.SenderSsrc, nack.MediaSsrc));
            var decoded = new List<ushort>();
            foreach (var s in nack.LostSequenceNumbers) decoded.Add(s);
            Assert.Equal(lost, decoded);
            Assert.Equal(pairs, ToArray(nack.Pairs));
        });
    }

    [Fact]
    public void Picture_loss_indication_and_fir()
    {
        Gen.Select(Gen.UInt, Gen.UInt, Gen.Select(Gen.UInt, Gen.Byte).Array[1, 10]).Sample((sender, media, fcis) =>
        {
            Assert.True(PictureLossIndication.TryParse(Write(new PictureLossIndication(sender, media)), out var pli));
            Assert.Equal(new PictureLossIndication(sender, media), pli);
            var entries = fcis.Select(f => new FirEntry(f.Item1, f.Item2)).ToArray();
            var bytes = Write(new FullIntraRequest(sender, entries, media));
            Assert.True(FullIntraRequest.TryParse(bytes, out var fir));
            Assert.Equal((sender, media), (fir.SenderSsrc, fir.MediaSsrc));
            Assert.Equal(entries, ToArray(fir.Entries));
        });
    }

    [Fact]
    public void Remb()
    {
        Gen.Select(Gen.UInt, Gen.UInt[0, (1 << 18) - 1], Gen.Int[0, 46], Gen.UInt.Array[0, 20]).Sample((sender, mantissa, exp, ssrcs) =>
        {
            ulong bitrate = (ulong)mantissa << exp;
            var entries = ssrcs.Select(s => new SsrcEntry(s)).ToArray();
            var bytes = Write(new ReceiverEstimatedMaxBitrate(sender, bitrate, entries));
            Assert.True(ReceiverEstimatedMaxBitrate.TryParse(bytes, out var remb));
            Assert.Equal(sender, remb.SenderSsrc);
            Assert.Equal(bitrate, remb.Bitrate);
            Assert.Equal(entries, ToArray(remb.Ssrcs));
        });
        // arbitrary bitrates are truncated to 18 significant bits
        Gen.ULong.Sample(bitrate =>
        {
            var (exp, mantissa) = ReceiverEstimatedMaxBitrate.Encode(bitrate);
            Assert.True(mantissa < 1 << 18);
            Assert.True(bitrate - ((ulong)mantissa << exp) < 1UL << exp);
        });
    }

    private static T[] ToArray<T>(RtcpItemList<T> list) where T : struct, IRtcpItem<T>
    {
        var result = new T[list.Count];
        int i = 0;
        foreach (var item in list) result[i++] = item;
        return result;
    }
}
