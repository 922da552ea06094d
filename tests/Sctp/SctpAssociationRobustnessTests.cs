using System.Buffers.Binary;
using TeleRehab.Media.Sctp;
using static TeleRehab.Media.Tests.Sctp.SctpAssociationTests;

namespace TeleRehab.Media.Tests.Sctp;

public class SctpAssociationRobustnessTests
{
    /// <summary>A packet from A to B with the right tag and checksum around the given chunks.</summary>
    internal static byte[] PacketToB(SctpTestNetwork net, uint tag, params byte[][] chunks)
    {
        var packet = new byte[SctpPacket.CommonHeaderSize + chunks.Sum(c => c.Length)];
        SctpPacket.WriteCommonHeader(packet, 5000, 5000, tag);
        int offset = SctpPacket.CommonHeaderSize;
        foreach (var c in chunks)
        {
            c.CopyTo(packet, offset);
            offset += c.Length;
        }
        SctpPacket.WriteChecksum(packet);
        return packet;
    }

    internal static byte[] Chunk<T>(T chunk) where T : ISctpChunkWriter, allows ref struct
    {
        var bytes = new byte[chunk.GetSerializedLength()];
        chunk.WriteTo(bytes);
        return bytes;
    }

    /// <summary>Connects, sends one message A→B and returns B's tag and the TSN of that message.</summary>
    internal static (SctpTestNetwork Net, uint TagAtB, uint LastTsn) Established(int seed = 21)
    {
        var net = new SctpTestNetwork(seed);
        Assert.True(net.Connect());
        byte[]? data = null;
        net.Drop = (toB, p) =>
        {
            if (toB && ChunkTypes(p).Contains(SctpChunkType.Data)) data = p;
            return false;
        };
        net.A.Send(0, 51, "first"u8, default, net.Now);
        Assert.True(net.RunUntil(() => net.MessagesAtB.Any(), TimeSpan.FromSeconds(2)));
        net.Drop = null;
        Assert.True(SctpPacket.TryParse(data, out var parsed));
        parsed.Chunks.TryReadNext(out var chunk);
        PayloadData.TryParse(chunk, out var payload);
        return (net, parsed.VerificationTag, payload.Tsn);
    }

    private static void AssertStillWorks(SctpTestNetwork net, string text = "still alive")
    {
        int before = net.MessagesAtB.Count();
        Assert.Equal(SctpSendResult.Ok, net.A.Send(0, 51, System.Text.Encoding.UTF8.GetBytes(text), default, net.Now));
        Assert.True(net.RunUntil(() => net.MessagesAtB.Count() == before + 1, TimeSpan.FromSeconds(5)));
        Assert.Equal(text, System.Text.Encoding.UTF8.GetString(net.MessagesAtB.Last().Payload));
        Assert.Equal(SctpAssociationState.Established, net.B.State);
    }

    [Fact]
    public void Bad_checksum_truncated_chunk_and_wrong_tag_are_dropped_and_counted()
    {
        var (net, tag, tsn) = Established();
        long bad = net.B.Counters.BadPacketsDropped;
        var data = Chunk(new PayloadData(DataChunkFlags.Complete, tsn + 1, 0, 1, 51, "forged"u8));

        var badCrc = PacketToB(net, tag, data);
        badCrc[^1] ^= 0xFF;
        net.B.HandlePacket(badCrc, net.Now);

        var truncated = PacketToB(net, tag, data);
        BinaryPrimitives.WriteUInt16BigEndian(truncated.AsSpan(SctpPacket.CommonHeaderSize + 2), 200); // runs past the packet
        SctpPacket.WriteChecksum(truncated);
        net.B.HandlePacket(truncated, net.Now);

        net.B.HandlePacket(PacketToB(net, tag ^ 0x5A5A, data), net.Now);
        net.B.HandlePacket(new byte[] { 1, 2, 3 }, net.Now);
        net.B.HandlePacket(ReadOnlySpan<byte>.Empty, net.Now);

        var wrongPort = PacketToB(net, tag, data);
        BinaryPrimitives.WriteUInt16BigEndian(wrongPort, 5001);
        SctpPacket.WriteChecksum(wrongPort);
        net.B.HandlePacket(wrongPort, net.Now);

        Assert.Equal(bad + 6, net.B.Counters.BadPacketsDropped);
        Assert.Single(net.MessagesAtB);
        AssertStillWorks(net);
    }

    [Fact]
    public void Data_before_the_association_is_established_is_dropped()
    {
        var fresh = new SctpAssociation(new SctpAssociationOptions { Random = new Random(5) });
        var packet = new byte[64];
        var writer = new SctpPacketWriter(packet, 5000, 5000, 0x12345678);
        writer.Append(new PayloadData(DataChunkFlags.Complete, 1, 0, 0, 51, "early"u8));
        int n = writer.Finish();
        fresh.HandlePacket(packet.AsSpan(0, n), TimeSpan.FromSeconds(1));
        Assert.Equal(1, fresh.Counters.BadPacketsDropped);
        Assert.False(fresh.TryPollEvent(out _));
        Assert.False(fresh.TryPollTransmit(new byte[1500], out _));
        Assert.Equal(SctpAssociationState.Closed, fresh.State);
    }

    [Fact]
    public void Huge_tsn_jump_and_out_of_window_data_are_dropped()
    {
        var (net, tag, tsn) = Established();
        net.B.HandlePacket(PacketToB(net, tag, Chunk(new PayloadData(DataChunkFlags.Complete, tsn + 1_000_000, 0, 1, 51, "far"u8))), net.Now);
        net.B.HandlePacket(PacketToB(net, tag, Chunk(new PayloadData(DataChunkFlags.Complete, tsn - 1_000_000, 0, 1, 51, "old"u8))), net.Now);
        net.B.HandlePacket(PacketToB(net, tag, Chunk(new PayloadData(DataChunkFlags.Complete, tsn + 0x80000000u, 0, 1, 51, "half"u8))), net.Now);
        Assert.Equal(1, net.B.Counters.DataChunksDroppedNoWindow);
        Assert.Equal(2, net.B.Counters.DuplicateTsnsReceived); // behind the cumulative TSN: duplicates
        Assert.Single(net.MessagesAtB);
        AssertStillWorks(net);
    }

    [Fact]
    public void Out_of_order_data_cannot_exceed_the_receive_window()
    {
        var (net, tag, tsn) = Established();
        // Fragments that never complete (no B flag), each above the cumulative TSN with a hole before them.
        var payload = new byte[1000];
        for (uint i = 2; i < 2000; i++)
            net.B.HandlePacket(PacketToB(net, tag, Chunk(new PayloadData(DataChunkFlags.None, tsn + i, 0, 1, 53, payload))), net.Now);
        Assert.True(net.B.ReceiveBuffered <= 1024 * 1024);
        Assert.True(net.B.Counters.DataChunksDroppedNoWindow > 900);
    }

    [Fact]
    public void Malformed_and_bogus_sacks_are_dropped()
    {
        var (net, _, _) = Established();
        var sack = Chunk(new SelectiveAcknowledgement(0, 1000));
        BinaryPrimitives.WriteUInt16BigEndian(sack.AsSpan(12), 3); // claims 3 gap blocks it does not have
        uint tagAtA = TagOf(net, toB: false);
        net.A.HandlePacket(PacketToA(tagAtA, sack), net.Now);
        // A cumulative ack far beyond anything sent.
        net.A.HandlePacket(PacketToA(tagAtA, Chunk(new SelectiveAcknowledgement(0x7FFFFFFF, 1000))), net.Now);
        Assert.True(net.A.Counters.ChunksDropped >= 2);
        AssertStillWorks(net);
    }

    private static uint TagOf(SctpTestNetwork net, bool toB)
    {
        uint tag = 0;
        net.Drop = (dir, p) =>
        {
            if (dir == toB) tag = BinaryPrimitives.ReadUInt32BigEndian(p.AsSpan(4));
            return false;
        };
        if (toB) net.A.Send(0, 51, "x"u8, default, net.Now);
        else net.B.Send(0, 51, "x"u8, default, net.Now);
        net.RunFor(TimeSpan.FromSeconds(1));
        net.Drop = null;
        Assert.NotEqual(0u, tag);
        return tag;
    }

    private static byte[] PacketToA(uint tag, params byte[][] chunks) => PacketToB(null!, tag, chunks);

    [Fact]
    public void Unknown_chunks_follow_the_high_bit_rules_and_are_reported()
    {
        var (net, tag, tsn) = Established();
        var unknownSkipReport = new byte[] { 0xFF, 0, 0, 8, 1, 2, 3, 4 };
        var unknownSkip = new byte[] { 0xBE, 0, 0, 4 };
        var data = Chunk(new PayloadData(DataChunkFlags.Complete, tsn + 1, 0, 1, 51, "after unknown"u8));
        var errors = new List<byte[]>();
        net.Drop = (toB, p) =>
        {
            if (!toB && ChunkTypes(p).Contains(SctpChunkType.Error)) errors.Add(p);
            return false;
        };
        net.B.HandlePacket(PacketToB(net, tag, unknownSkip, unknownSkipReport, data), net.Now);
        net.Pump();
        Assert.Equal("after unknown"u8.ToArray(), net.MessagesAtB.Last().Payload);
        Assert.Equal(2, net.B.Counters.UnrecognizedChunks);
        var error = Assert.Single(errors);
        Assert.True(SctpPacket.TryParse(error, out var parsed));
        foreach (var chunk in parsed.Chunks)
        {
            if (chunk.Type != SctpChunkType.Error) continue;
            Assert.True(OperationError.TryParse(chunk, out var op));
            Assert.True(SctpErrorCause.TryRead(op.ErrorCauses, out var cause, out _));
            Assert.Equal(SctpErrorCauseCode.UnrecognizedChunkType, cause.Code);
            Assert.Equal(unknownSkipReport, cause.Information.ToArray());
        }

        // 0x3F: "stop, do not report": DATA after it in the same packet is not processed.
        var stop = new byte[] { 0x3F, 0, 0, 4 };
        var data2 = Chunk(new PayloadData(DataChunkFlags.Complete, tsn + 2, 0, 2, 51, "never"u8));
        net.B.HandlePacket(PacketToB(net, tag, stop, data2), net.Now);
        Assert.DoesNotContain(net.MessagesAtB, m => m.Payload.SequenceEqual("never"u8.ToArray()));
        net.Drop = null;
        // The forged DATA used A's next TSN, so check the association from B's side.
        net.B.Send(5, 51, "reply"u8, default, net.Now);
        Assert.True(net.RunUntil(() => net.MessagesAtA.Any(), TimeSpan.FromSeconds(5)));
        Assert.Equal(SctpAssociationState.Established, net.B.State);
    }

    [Fact]
    public void Random_chunks_with_a_valid_header_never_throw_or_break_the_association()
    {
        var (net, tag, _) = Established();
        var random = new Random(99);
        byte[] forbidden = [0, 6, 7, 8, 14, 192]; // DATA, ABORT, SHUTDOWN*, FORWARD TSN: legitimate with the right tag
        for (int i = 0; i < 5000; i++)
        {
            var chunk = new byte[4 + random.Next(0, 60)];
            random.NextBytes(chunk);
            if (Array.IndexOf(forbidden, chunk[0]) >= 0) chunk[0] = 0x42;
            if (i % 3 == 0) BinaryPrimitives.WriteUInt16BigEndian(chunk.AsSpan(2), (ushort)chunk.Length); // well-formed length
            var packet = PacketToB(net, tag, chunk);
            net.B.HandlePacket(packet, net.Now);
            net.B.HandlePacket(packet.AsSpan(0, random.Next(packet.Length)), net.Now); // and a truncation of it
        }
        net.Pump();
        Assert.Equal(SctpAssociationState.Established, net.B.State);
        AssertStillWorks(net);
    }
}
