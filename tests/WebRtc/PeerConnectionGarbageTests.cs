using System.Buffers.Binary;
using TeleRehab.Media.Net;
using TeleRehab.Media.WebRtc;

namespace TeleRehab.Media.Tests.WebRtc;

/// <summary>Random and half-plausible datagrams of every first-byte class (RFC 7983 demultiplexing) thrown at both
/// peers in every state: nothing throws, and the connection still comes up and carries media.</summary>
public sealed class PeerConnectionGarbageTests
{
    /// <summary>First-byte ranges: STUN, unused 4-15, ZRTP 16-19, DTLS 20-63, TURN channel 64-79, unused 80-127,
    /// RTP/RTCP 128-191 and unused 192-255.</summary>
    private static readonly (int Low, int High)[] FirstByteClasses =
        [(0, 3), (4, 15), (16, 19), (20, 63), (64, 79), (80, 127), (128, 191), (192, 255)];

    internal static byte[] Garbage(Random random)
    {
        var kind = random.Next(12);
        var length = random.Next(1, 300);
        var datagram = new byte[length];
        random.NextBytes(datagram);
        switch (kind)
        {
            case < 8:
            {
                var (low, high) = FirstByteClasses[kind];
                datagram[0] = (byte)random.Next(low, high + 1);
                if (kind == 6 && length > 1 && random.Next(2) == 0) datagram[1] = (byte)random.Next(192, 224); // RTCP range
                return datagram;
            }
            case 8:
            {
                // A STUN binding request/response header with the magic cookie and a consistent length, random body.
                var body = random.Next(0, 20) * 4;
                datagram = new byte[20 + body];
                random.NextBytes(datagram);
                BinaryPrimitives.WriteUInt16BigEndian(datagram, random.Next(2) == 0 ? (ushort)0x0001 : (ushort)0x0101);
                BinaryPrimitives.WriteUInt16BigEndian(datagram.AsSpan(2), (ushort)body);
                BinaryPrimitives.WriteUInt32BigEndian(datagram.AsSpan(4), 0x2112A442);
                return datagram;
            }
            case 9:
            {
                // A DTLS 1.2 record header (change_cipher_spec, handshake or application_data) with a consistent length.
                // Not alerts: an epoch-0 alert is unauthenticated by design (RFC 6347), and a well-formed fatal one
                // from the peer's validated 5-tuple does abort a handshake; that is spoofing, not garbage.
                var body = random.Next(0, 200);
                datagram = new byte[13 + body];
                random.NextBytes(datagram);
                datagram[0] = (byte)(random.Next(3) switch { 0 => 20, 1 => 22, _ => 23 });
                datagram[1] = 0xFE;
                datagram[2] = 0xFD;
                BinaryPrimitives.WriteUInt16BigEndian(datagram.AsSpan(11), (ushort)body);
                return datagram;
            }
            case 10:
            {
                // An RTP header with the real SSRC and a random "protected" payload and tag.
                datagram = new byte[12 + random.Next(10, 200)];
                random.NextBytes(datagram);
                datagram[0] = 0x80;
                datagram[1] = 111;
                BinaryPrimitives.WriteUInt32BigEndian(datagram.AsSpan(8), random.Next(2) == 0 ? PeerConnectionTests.ClientSsrc : PeerConnectionTests.ServerSsrc);
                return datagram;
            }
            default:
            {
                // An SRTCP-shaped receiver report: header, SSRC, E-flag + index, random tag.
                datagram = new byte[8 + 4 + random.Next(4, 20)];
                random.NextBytes(datagram);
                datagram[0] = 0x80;
                datagram[1] = 201;
                BinaryPrimitives.WriteUInt16BigEndian(datagram.AsSpan(2), 1);
                BinaryPrimitives.WriteUInt32BigEndian(datagram.AsSpan(4), random.Next(2) == 0 ? PeerConnectionTests.ClientSsrc : PeerConnectionTests.ServerSsrc);
                return datagram;
            }
        }
    }

    private static void Inject(PeerConnectionHarness h, Random random, int count,
        HashSet<PeerConnectionState> serverStates, HashSet<PeerConnectionState> clientStates)
    {
        serverStates.Add(h.Server.State);
        clientStates.Add(h.Client.State);
        for (var i = 0; i < count; i++)
        {
            h.Network.Inject(h.Network.Server, Garbage(random));
            h.Network.Inject(h.Network.Client, Garbage(random));
        }
    }

    [Theory]
    [InlineData(21)]
    [InlineData(22)]
    [InlineData(23)]
    public void Garbage_in_every_state_never_throws_nor_prevents_connecting(int seed)
    {
        var random = new Random(seed);
        using var h = new PeerConnectionHarness(seed);
        var serverStates = new HashSet<PeerConnectionState>();
        var clientStates = new HashSet<PeerConnectionState>();

        Inject(h, random, 200, serverStates, clientStates); // New
        h.Settle();
        h.Start();
        Inject(h, random, 200, serverStates, clientStates); // client Checking
        h.Step(TimeSpan.FromMilliseconds(5));
        Assert.True(h.RunUntil(() =>
        {
            if (!h.BothConnected) Inject(h, random, 3, serverStates, clientStates); // Connecting (DTLS under way)
            return h.BothConnected || h.Server.State is PeerConnectionState.Failed or PeerConnectionState.Closed
                || h.Client.State is PeerConnectionState.Failed or PeerConnectionState.Closed;
        }));
        Assert.True(h.BothConnected, $"server {h.Server.State} ({h.Server.CloseReason}), client {h.Client.State} ({h.Client.CloseReason})");

        Inject(h, random, 500, serverStates, clientStates); // Connected
        h.Settle();
        Assert.True(h.BothConnected, $"server {h.Server.State} ({h.Server.CloseReason}), client {h.Client.State} ({h.Client.CloseReason})");
        Assert.Contains(PeerConnectionState.New, serverStates);
        Assert.Contains(PeerConnectionState.Connecting, serverStates);
        Assert.Contains(PeerConnectionState.Connected, serverStates);
        Assert.Contains(PeerConnectionState.New, clientStates);
        Assert.Contains(PeerConnectionState.Checking, clientStates);
        Assert.Contains(PeerConnectionState.Connecting, clientStates);
        Assert.Contains(PeerConnectionState.Connected, clientStates);
        Assert.Empty(h.ServerEvents.Rtp);
        Assert.Empty(h.ClientEvents.Rtp);
        Assert.Empty(h.ServerEvents.Rtcp);
        Assert.Empty(h.ClientEvents.Rtcp);
        Assert.Equal([h.Network.ServerToClient], h.ServerEvents.SelectedPaths);

        PeerConnectionTests.AssertMediaBothWays(h, 10, "after-garbage");

        // And after a close, garbage is still harmless.
        h.Client.Close("done");
        h.Settle();
        Inject(h, random, 200, serverStates, clientStates);
        h.Settle();
        Assert.Equal(["done"], h.ClientEvents.Closed);
        Assert.Single(h.ServerEvents.Closed);
    }

    [Fact]
    public void Zero_length_and_one_byte_datagrams_are_ignored()
    {
        using var h = new PeerConnectionHarness(seed: 24);
        var buffer = new byte[2048];
        for (var first = 0; first < 256; first++)
        {
            buffer[0] = (byte)first;
            h.Server.HandleDatagram(buffer, 0, h.Network.ServerToClient, h.Now);
            h.Server.HandleDatagram(buffer, 1, h.Network.ServerToClient, h.Now);
            h.Client.HandleDatagram(buffer, 1, h.Network.ClientToServer, h.Now);
        }
        Assert.Equal(PeerConnectionState.New, h.Server.State);
        Assert.Equal(PeerConnectionState.New, h.Client.State);
        Assert.Empty(h.Network.Log);
        h.Start();
        Assert.True(h.ConnectBoth());
    }
}
