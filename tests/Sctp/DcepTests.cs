using System.Text;
using TeleRehab.Media.Sctp;
using static TeleRehab.Media.Tests.Sctp.SctpTestHelpers;

namespace TeleRehab.Media.Tests.Sctp;

public class DcepTests
{
    [Fact]
    public void Open_for_pose_unordered_with_no_retransmissions_has_the_exact_bytes()
    {
        // RFC 8832 §5.1: type 0x03, channel type 0x81 (PARTIAL_RELIABLE_REXMIT_UNORDERED), priority 256
        // ("normal"/WebRTC default, RFC 8831 §6.4), reliability 0, label length 4, protocol length 0, "pose".
        var open = new DataChannelOpen(DataChannelType.PartialReliableRexmitUnordered, 256, 0, "pose"u8);
        var bytes = new byte[open.GetSerializedLength()];
        Assert.Equal(16, open.WriteTo(bytes));
        Assert.Equal(Hex("03 81 0100 00000000 0004 0000 706F7365"), bytes);

        Assert.True(DataChannelOpen.TryParse(bytes, out var parsed));
        Assert.Equal(DataChannelType.PartialReliableRexmitUnordered, parsed.ChannelType);
        Assert.True(parsed.IsUnordered);
        Assert.Equal(256, parsed.Priority);
        Assert.Equal(0u, parsed.ReliabilityParameter);
        Assert.Equal("pose", parsed.GetLabelString());
        Assert.Equal("", parsed.GetProtocolString());
    }

    [Theory]
    [InlineData(DataChannelType.Reliable, 0x00, false)]
    [InlineData(DataChannelType.ReliableUnordered, 0x80, true)]
    [InlineData(DataChannelType.PartialReliableRexmit, 0x01, false)]
    [InlineData(DataChannelType.PartialReliableRexmitUnordered, 0x81, true)]
    [InlineData(DataChannelType.PartialReliableTimed, 0x02, false)]
    [InlineData(DataChannelType.PartialReliableTimedUnordered, 0x82, true)]
    public void Open_round_trips_every_channel_type(DataChannelType type, byte wire, bool unordered)
    {
        var label = Encoding.UTF8.GetBytes("exercise-ü");
        var protocol = "json"u8.ToArray();
        var open = new DataChannelOpen(type, 512, 1500, label, protocol);
        var bytes = new byte[open.GetSerializedLength()];
        open.WriteTo(bytes);
        Assert.Equal(wire, bytes[1]);
        Assert.True(DataChannelOpen.TryParse(bytes, out var parsed));
        Assert.Equal(type, parsed.ChannelType);
        Assert.Equal(unordered, parsed.IsUnordered);
        Assert.Equal(512, parsed.Priority);
        Assert.Equal(1500u, parsed.ReliabilityParameter);
        Assert.Equal("exercise-ü", parsed.GetLabelString());
        Assert.Equal("json", parsed.GetProtocolString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("03 00 0000 00000000 0000 00")]          // 11 bytes
    [InlineData("02 00 0000 00000000 0000 0000")]        // an ACK type, not an OPEN
    [InlineData("03 00 0000 00000000 0001 0000")]        // label length past the end
    [InlineData("03 00 0000 00000000 0002 0001 6162")]   // protocol length past the end
    [InlineData("03 00 0000 00000000 FFFF FFFF 61")]     // lengths that would overflow a 16-bit sum
    public void Malformed_open_is_rejected(string hex)
    {
        Assert.False(DataChannelOpen.TryParse(Hex(hex), out _));
    }

    [Fact]
    public void Ack_round_trip()
    {
        var ack = new DataChannelAck();
        var bytes = new byte[ack.GetSerializedLength()];
        Assert.Equal(1, ack.WriteTo(bytes));
        Assert.Equal(new byte[] { 0x02 }, bytes);
        Assert.True(DataChannelAck.TryParse(bytes, out _));
        Assert.False(DataChannelAck.TryParse([], out _));
        Assert.False(DataChannelAck.TryParse([0x03], out _));
    }

    [Fact]
    public void Open_travels_in_a_dcep_data_chunk()
    {
        var message = new byte[32];
        int n = new DataChannelOpen(DataChannelType.Reliable, 256, 0, "pose"u8).WriteTo(message);
        var chunk = Write(new PayloadData(DataChunkFlags.Complete, 1, 1, 0, (uint)SctpPayloadProtocol.Dcep, message.AsSpan(0, n)));
        Assert.True(PayloadData.TryParse(Chunk(chunk), out var data));
        Assert.Equal((uint)SctpPayloadProtocol.Dcep, data.PayloadProtocol);
        Assert.True(DataChannelOpen.TryParse(data.UserData, out var open));
        Assert.Equal("pose", open.GetLabelString());
    }
}
