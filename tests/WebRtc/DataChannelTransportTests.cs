using CsCheck;
using TeleRehab.Media.Sctp;
using TeleRehab.Media.WebRtc;

namespace TeleRehab.Media.Tests.WebRtc;

/// <summary>The data channel transport on its own: every inbound DTLS application record is checked as an SCTP
/// packet of the negotiated association (layout, CRC32c, ports), counted, and dropped when bad; outbound packets go
/// to DTLS only once it is up. No network, no clock.</summary>
public class DataChannelTransportTests
{
    private static readonly DataChannelParameters Parameters = new("2", LocalPort: 5000, RemotePort: 5000, 262144, 65536);

    /// <summary>An SCTP packet with one INIT chunk, as a browser starts an association (RFC 9260 §5.1).</summary>
    internal static byte[] InitPacket(ushort sourcePort = 5000, ushort destinationPort = 5000)
    {
        var buffer = new byte[256];
        var writer = new SctpPacketWriter(buffer, sourcePort, destinationPort, verificationTag: 0);
        writer.Append(new Initiation(0x1234_5678, 131072, 1024, 1024, 1000, forwardTsnSupported: true));
        return buffer.AsSpan(0, writer.Finish()).ToArray();
    }

    [Fact]
    public void A_valid_init_is_counted_with_its_chunk_type()
    {
        var transport = new DataChannelTransport(Parameters);
        transport.HandlePacket(InitPacket(), TimeSpan.Zero);
        Assert.Equal(1, transport.PacketsReceived);
        Assert.Equal(0, transport.PacketsDropped);
        Assert.Equal([(byte)SctpChunkType.Init], transport.RecentChunkTypes());
        Assert.Equal(DataChannelDrop.None, transport.LastDrop);
        Assert.Null(transport.NextTimeout);
    }

    [Fact]
    public void Recent_chunk_types_keep_the_latest_in_order()
    {
        var transport = new DataChannelTransport(Parameters);
        var cookieAck = new byte[16];
        var writer = new SctpPacketWriter(cookieAck, 5000, 5000, 0xAABBCCDD);
        writer.Append(new CookieAcknowledgement());
        var cookieAckPacket = cookieAck.AsSpan(0, writer.Finish()).ToArray();
        for (var i = 0; i < DataChannelTransport.RecentCapacity + 3; i++) transport.HandlePacket(InitPacket(), TimeSpan.Zero);
        transport.HandlePacket(cookieAckPacket, TimeSpan.Zero);
        var recent = transport.RecentChunkTypes();
        Assert.Equal(DataChannelTransport.RecentCapacity, recent.Length);
        Assert.Equal((byte)SctpChunkType.CookieAck, recent[^1]);
        Assert.All(recent[..^1], t => Assert.Equal((byte)SctpChunkType.Init, t));
        Assert.Equal(DataChannelTransport.RecentCapacity + 4, transport.PacketsReceived);
    }

    [Fact]
    public void Bad_checksum_wrong_ports_and_garbage_are_dropped_and_counted_by_reason()
    {
        var transport = new DataChannelTransport(Parameters);
        var corrupt = InitPacket();
        corrupt[^1] ^= 0x01;
        transport.HandlePacket(corrupt, TimeSpan.Zero);
        Assert.Equal(DataChannelDrop.BadChecksum, transport.LastDrop);

        transport.HandlePacket(InitPacket(sourcePort: 5001), TimeSpan.Zero);
        transport.HandlePacket(InitPacket(destinationPort: 9), TimeSpan.Zero);
        Assert.Equal(DataChannelDrop.WrongPort, transport.LastDrop);

        transport.HandlePacket("hello, not sctp"u8, TimeSpan.Zero);
        transport.HandlePacket([], TimeSpan.Zero);
        transport.HandlePacket(InitPacket()[..13], TimeSpan.Zero); // header and one byte of a chunk
        Assert.Equal(DataChannelDrop.Malformed, transport.LastDrop);

        Assert.Equal(0, transport.PacketsReceived);
        Assert.Equal(6, transport.PacketsDropped);
        Assert.Equal(1, transport.BadChecksumPackets);
        Assert.Equal(2, transport.WrongPortPackets);
        Assert.Equal(3, transport.MalformedPackets);
        Assert.Empty(transport.RecentChunkTypes());

        transport.HandlePacket(InitPacket(), TimeSpan.Zero);
        Assert.Equal(1, transport.PacketsReceived);
    }

    [Fact]
    public void Random_bytes_never_throw_and_are_counted_once_each()
    {
        var transport = new DataChannelTransport(Parameters);
        long records = 0;
        Gen.Byte.Array[0, 1500].Sample(bytes =>
        {
            transport.HandlePacket(bytes, TimeSpan.Zero);
            records++;
        }, iter: 2000, threads: 1);
        // A random record is a valid packet with the right CRC32c and ports about never.
        Assert.Equal(records, transport.PacketsReceived + transport.PacketsDropped);
        Assert.Equal(0, transport.PacketsReceived);
    }

    [Fact]
    public void Mutated_valid_packets_never_throw()
    {
        var transport = new DataChannelTransport(Parameters);
        var valid = InitPacket();
        Gen.Select(Gen.Int[0, valid.Length - 1], Gen.Byte, Gen.Int[1, valid.Length]).Sample((index, value, length) =>
        {
            var copy = valid.ToArray();
            copy[index] = value;
            transport.HandlePacket(copy.AsSpan(0, length), TimeSpan.Zero);
        }, iter: 2000, threads: 1);
        Assert.Equal(2000, transport.PacketsReceived + transport.PacketsDropped);
    }

    [Fact]
    public void Outbound_packets_go_to_dtls_only_once_started_and_within_its_record_size()
    {
        var transport = new DataChannelTransport(Parameters);
        var sent = new List<byte[]>();
        Assert.False(transport.IsStarted);
        Assert.False(transport.SendPacket(InitPacket()));

        transport.Start(packet => { sent.Add(packet.ToArray()); return true; }, maxPacketSize: 300, TimeSpan.Zero);
        Assert.True(transport.IsStarted);
        Assert.Equal(300, transport.MaxPacketSize);
        // Start makes the association, which sends its INIT at once (both WebRTC peers do, RFC 8831 §6.2).
        var init = Assert.Single(sent);
        Assert.Equal((byte)SctpChunkType.Init, init[SctpPacket.CommonHeaderSize]);
        Assert.NotNull(transport.NextTimeout); // T1-init
        Assert.True(transport.SendPacket(InitPacket()));
        Assert.False(transport.SendPacket(new byte[301]));
        Assert.Equal(2, transport.PacketsSent);
        Assert.Equal(InitPacket(), sent[^1]);

        // A second Start changes nothing.
        transport.Start(_ => false, maxPacketSize: 10, TimeSpan.Zero);
        Assert.Equal(300, transport.MaxPacketSize);
        Assert.True(transport.SendPacket(InitPacket()));
    }

    [Fact]
    public void Check_reads_ports_from_the_parameters()
    {
        var other = Parameters with { LocalPort = 5000, RemotePort = 6000 };
        Assert.Equal(DataChannelDrop.WrongPort, DataChannelTransport.Check(InitPacket(), other));
        Assert.Equal(DataChannelDrop.None, DataChannelTransport.Check(InitPacket(sourcePort: 6000), other));
    }
}
