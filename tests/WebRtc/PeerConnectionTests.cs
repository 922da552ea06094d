using System.Buffers.Binary;
using System.Text;
using TeleRehab.Media.Dtls;
using TeleRehab.Media.Net;
using TeleRehab.Media.WebRtc;

namespace TeleRehab.Media.Tests.WebRtc;

/// <summary>Two <see cref="PeerConnection"/>s (ICE-lite server, controlling client) over an in-memory network, with fake
/// time: ICE, DTLS and SRTP end to end without sockets.</summary>
public sealed class PeerConnectionTests
{
    internal const uint ClientSsrc = 0x11223344;
    internal const uint ServerSsrc = 0x55667788;

    internal static byte[] MakeRtp(uint ssrc, ushort sequence, string payload)
    {
        var body = Encoding.ASCII.GetBytes(payload);
        var packet = new byte[12 + body.Length];
        packet[0] = 0x80;
        packet[1] = 111;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), sequence);
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(4), sequence * 960u);
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(8), ssrc);
        body.CopyTo(packet, 12);
        return packet;
    }

    /// <summary>An RTCP receiver report without report blocks (RFC 3550 §6.4.2), plus a 4-byte marker in a profile
    /// extension so each one is distinguishable.</summary>
    internal static byte[] MakeRtcp(uint ssrc, uint marker)
    {
        var packet = new byte[12];
        packet[0] = 0x80;
        packet[1] = 201;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), 2);
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(4), ssrc);
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(8), marker);
        return packet;
    }

    internal static bool Send(PeerConnection connection, byte[] packet, bool rtcp = false)
    {
        var buffer = new byte[packet.Length + 64];
        packet.CopyTo(buffer, 0);
        return rtcp ? connection.SendRtcp(buffer, packet.Length) : connection.SendRtp(buffer, packet.Length);
    }

    internal static void AssertMediaBothWays(PeerConnectionHarness h, int count, string tag)
    {
        var clientSent = new List<byte[]>();
        var serverSent = new List<byte[]>();
        var serverBefore = h.ServerEvents.Rtp.Count;
        var clientBefore = h.ClientEvents.Rtp.Count;
        for (var i = 0; i < count; i++)
        {
            var up = MakeRtp(ClientSsrc, (ushort)(5000 + i + clientBefore), $"{tag}-up-{i:D3}");
            var down = MakeRtp(ServerSsrc, (ushort)(7000 + i + serverBefore), $"{tag}-down-{i:D3}");
            Assert.True(Send(h.Client, up));
            Assert.True(Send(h.Server, down));
            clientSent.Add(up);
            serverSent.Add(down);
        }
        h.Settle();
        Assert.Equal(clientSent, h.ServerEvents.Rtp.Skip(serverBefore));
        Assert.Equal(serverSent, h.ClientEvents.Rtp.Skip(clientBefore));
    }

    [Fact]
    public void Peers_connect_agree_on_srtp_and_exchange_rtp_and_rtcp_intact()
    {
        using var h = new PeerConnectionHarness(seed: 1);
        Assert.Equal(PeerConnectionState.New, h.Client.State);
        Assert.False(Send(h.Client, MakeRtp(ClientSsrc, 1, "too early")));
        // Nothing happens before Start: the owner loop's timer does not start the client's checks.
        Assert.Null(h.Client.NextTimeout);
        Assert.Null(h.Server.NextTimeout);
        h.Advance(TimeSpan.FromSeconds(2), TimeSpan.FromMilliseconds(50));
        Assert.Empty(h.Network.Log);
        Assert.Equal(PeerConnectionState.New, h.Client.State);
        Assert.Equal(PeerConnectionState.New, h.Server.State);

        h.Start();
        Assert.Equal(PeerConnectionState.Checking, h.Client.State);
        Assert.NotEmpty(h.Network.Log);
        Assert.True(h.ConnectBoth(), $"server {h.Server.State} ({h.Server.CloseReason}), client {h.Client.State} ({h.Client.CloseReason})");

        Assert.Equal(1, h.ServerEvents.ConnectedCount);
        Assert.Equal(1, h.ClientEvents.ConnectedCount);
        Assert.NotNull(h.Server.SrtpProfile);
        Assert.Equal(h.Server.SrtpProfile, h.Client.SrtpProfile);
        Assert.Equal(DtlsRole.Server, h.Server.DtlsRole);
        Assert.Equal(DtlsRole.Client, h.Client.DtlsRole);
        Assert.Same(h.Network.ServerToClient, h.Server.SelectedPath);
        Assert.Same(h.Network.ClientToServer, h.Client.SelectedPath);
        Assert.Equal([h.Network.ServerToClient], h.ServerEvents.SelectedPaths);
        Assert.Equal([h.Network.ClientToServer], h.ClientEvents.SelectedPaths);
        Assert.True(h.Client.MaxSrtpOverhead > 0);

        var onWire = h.Network.Log.Count;
        AssertMediaBothWays(h, 20, "connect");

        // What crossed the network was SRTP: the plaintext payloads never appear on the wire.
        foreach (var (_, datagram) in h.Network.Log.Skip(onWire))
        {
            Assert.Equal(PacketKind.Rtp, PacketClassifier.Classify(datagram));
            Assert.DoesNotContain("connect-", Encoding.ASCII.GetString(datagram));
        }

        var up = MakeRtcp(ClientSsrc, 0xAABBCCDD);
        var down = MakeRtcp(ServerSsrc, 0x01020304);
        Assert.True(Send(h.Client, up, rtcp: true));
        Assert.True(Send(h.Server, down, rtcp: true));
        h.Settle();
        Assert.Equal([up], h.ServerEvents.Rtcp);
        Assert.Equal([down], h.ClientEvents.Rtcp);
        foreach (var (_, datagram) in h.Network.Log.Skip(onWire + 40))
            Assert.Equal(PacketKind.Rtcp, PacketClassifier.Classify(datagram));

        Assert.Empty(h.ServerEvents.Closed);
        Assert.Empty(h.ClientEvents.Closed);
    }

    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    [InlineData(13)]
    [InlineData(14)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(18)]
    [InlineData(19)]
    [InlineData(20)]
    public void Peers_connect_and_carry_media_over_a_lossy_reordering_link(int seed)
    {
        using var h = new PeerConnectionHarness(seed);
        foreach (var link in new[] { h.Network.ClientToServerLink, h.Network.ServerToClientLink })
        {
            link.Loss = 0.2;
            link.Reorder = 0.2;
            link.Duplicate = 0.05;
        }
        // The whole link is impaired, the DTLS flights in both directions included (see DtlsHandshakeRecordGate for
        // the ChangeCipherSpec-before-CertificateVerify case BouncyCastle alone would not recover from).

        h.Start();
        Assert.True(h.ConnectBoth(), $"server {h.Server.State} ({h.Server.CloseReason}), client {h.Client.State} ({h.Client.CloseReason})");
        Assert.Equal(h.Server.SrtpProfile, h.Client.SrtpProfile);

        var clientSent = new List<byte[]>();
        var serverSent = new List<byte[]>();
        for (var i = 0; i < 60; i++)
        {
            var up = MakeRtp(ClientSsrc, (ushort)(100 + i), $"lossy-up-{i:D3}");
            var down = MakeRtp(ServerSsrc, (ushort)(900 + i), $"lossy-down-{i:D3}");
            Assert.True(Send(h.Client, up));
            Assert.True(Send(h.Server, down));
            clientSent.Add(up);
            serverSent.Add(down);
            h.Step(TimeSpan.FromMilliseconds(20));
        }
        h.Settle(10);
        // (With flights packed into few datagrams, a seed may happen to lose nothing during the handshake.)
        Assert.True(h.Network.Dropped > 0);

        // Lost packets are lost (no retransmission at this layer); what arrives is intact and arrives once
        // (SRTP replay protection drops the duplicated ones).
        foreach (var (received, sent) in new[] { (h.ServerEvents.Rtp, clientSent), (h.ClientEvents.Rtp, serverSent) })
        {
            Assert.InRange(received.Count, 20, 60);
            Assert.All(received, packet => Assert.Contains(packet, sent));
            Assert.Equal(received.Count, received.Select(Convert.ToHexString).Distinct().Count());
        }
        Assert.Equal(PeerConnectionState.Connected, h.Server.State);
        Assert.Equal(PeerConnectionState.Connected, h.Client.State);
    }

    [Fact]
    public void Wrong_remote_fingerprint_fails_the_server_and_no_media_flows()
    {
        var mallory = DtlsCertificate.Generate("mallory");
        using var h = new PeerConnectionHarness(seed: 3, serverExpectsFingerprint: mallory.Fingerprint);
        h.Start();

        Assert.True(h.RunUntil(() => h.Server.State == PeerConnectionState.Failed
            && h.Client.State is PeerConnectionState.Failed or PeerConnectionState.Closed));

        Assert.Contains("fingerprint", h.Server.CloseReason, StringComparison.OrdinalIgnoreCase);
        Assert.Equal([h.Server.CloseReason!], h.ServerEvents.Closed);
        Assert.Single(h.ClientEvents.Closed);
        Assert.Equal(PeerConnectionState.Failed, h.Client.State);
        Assert.Contains("DTLS", h.Client.CloseReason);
        Assert.Equal(0, h.ServerEvents.ConnectedCount);
        Assert.Equal(0, h.ClientEvents.ConnectedCount);
        Assert.Null(h.Server.SrtpProfile);
        Assert.Null(h.Client.SrtpProfile);
        Assert.Null(h.Server.NextTimeout);

        Assert.False(Send(h.Client, MakeRtp(ClientSsrc, 1, "nope")));
        Assert.False(Send(h.Server, MakeRtp(ServerSsrc, 1, "nope")));
        h.Advance(TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(50));
        Assert.Empty(h.ServerEvents.Rtp);
        Assert.Empty(h.ClientEvents.Rtp);
        Assert.Single(h.ServerEvents.Closed);
        Assert.Single(h.ClientEvents.Closed);
    }

    [Fact]
    public void Server_fails_once_when_consent_checks_stop_arriving()
    {
        using var h = new PeerConnectionHarness(seed: 4);
        h.Start();
        Assert.True(h.ConnectBoth());
        // Let a consent check or two go by first.
        h.Advance(TimeSpan.FromSeconds(12), TimeSpan.FromMilliseconds(50));
        Assert.True(h.BothConnected);

        h.Network.ClientToServerLink.Blocked = true;
        // The last check got through at most ~6 s (5 s +20% jitter) ago: 20 s on, consent still holds.
        h.Advance(TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(50));
        Assert.Equal(PeerConnectionState.Connected, h.Server.State);
        Assert.Empty(h.ServerEvents.Closed);

        h.Advance(TimeSpan.FromSeconds(15), TimeSpan.FromMilliseconds(50));
        Assert.Equal(PeerConnectionState.Failed, h.Server.State);
        Assert.Contains("consent", h.Server.CloseReason, StringComparison.OrdinalIgnoreCase);
        Assert.Equal([h.Server.CloseReason!], h.ServerEvents.Closed);

        // The client gets no responses either (and the server's close_notify): it is down too, told once.
        Assert.NotEqual(PeerConnectionState.Connected, h.Client.State);
        Assert.Single(h.ClientEvents.Closed);

        h.Advance(TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(50));
        Assert.Single(h.ServerEvents.Closed);
        Assert.Single(h.ClientEvents.Closed);
        Assert.False(Send(h.Server, MakeRtp(ServerSsrc, 1, "after consent loss")));
    }

    [Fact]
    public void Consent_checks_keep_a_working_link_connected()
    {
        using var h = new PeerConnectionHarness(seed: 5);
        h.Start();
        Assert.True(h.ConnectBoth());
        var checksBefore = h.Network.Log.Count(d => d.From == "client" && PacketClassifier.Classify(d.Datagram) == PacketKind.Stun);

        h.Advance(TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(50));

        Assert.True(h.BothConnected);
        Assert.Empty(h.ServerEvents.Closed);
        Assert.Empty(h.ClientEvents.Closed);
        var checks = h.Network.Log.Count(d => d.From == "client" && PacketClassifier.Classify(d.Datagram) == PacketKind.Stun) - checksBefore;
        Assert.InRange(checks, 8, 20); // one every 5 s ±20% (RFC 7675 §5.1)
        AssertMediaBothWays(h, 5, "after-60s");
    }

    [Theory]
    [InlineData(0)] // first header byte (version/padding/extension flags)
    [InlineData(3)] // sequence number
    [InlineData(8)] // SSRC
    [InlineData(14)] // payload
    [InlineData(-1)] // last byte of the authentication tag
    public void Tampered_srtp_is_dropped_and_the_stream_continues(int offset)
    {
        using var h = new PeerConnectionHarness(seed: 6);
        h.Start();
        Assert.True(h.ConnectBoth());

        h.Network.ClientToServerLink.Transform = datagram =>
        {
            if (PacketClassifier.Classify(datagram) is PacketKind.Rtp or PacketKind.Rtcp)
            {
                var index = offset >= 0 ? offset : datagram.Length + offset;
                datagram[index] ^= index == 0 ? (byte)0x10 : (byte)0x01; // keep the first byte an RTP one
            }
            return true;
        };
        for (var i = 0; i < 10; i++)
        {
            Assert.True(Send(h.Client, MakeRtp(ClientSsrc, (ushort)(10 + i), $"tampered-{i}")));
            Assert.True(Send(h.Client, MakeRtcp(ClientSsrc, (uint)i), rtcp: true));
            h.Step(TimeSpan.FromMilliseconds(20));
        }
        h.Settle();
        Assert.Empty(h.ServerEvents.Rtp);
        Assert.Empty(h.ServerEvents.Rtcp);
        Assert.Equal(PeerConnectionState.Connected, h.Server.State);

        // Untampered packets after the forged ones still authenticate.
        h.Network.ClientToServerLink.Transform = null;
        var good = MakeRtp(ClientSsrc, 20, "good");
        var goodRtcp = MakeRtcp(ClientSsrc, 99);
        Assert.True(Send(h.Client, good));
        Assert.True(Send(h.Client, goodRtcp, rtcp: true));
        h.Settle();
        Assert.Equal([good], h.ServerEvents.Rtp);
        Assert.Equal([goodRtcp], h.ServerEvents.Rtcp);
    }

    [Fact]
    public void Closing_one_side_reports_once_and_the_peer_sees_the_dtls_close_notify()
    {
        using var h = new PeerConnectionHarness(seed: 7);
        h.Start();
        Assert.True(h.ConnectBoth());

        h.Client.Close("user hung up");
        Assert.Equal(PeerConnectionState.Closed, h.Client.State);
        Assert.Equal("user hung up", h.Client.CloseReason);
        Assert.Equal(["user hung up"], h.ClientEvents.Closed);
        Assert.Null(h.Client.NextTimeout);

        Assert.True(h.RunUntil(() => h.Server.State != PeerConnectionState.Connected));
        Assert.Equal(PeerConnectionState.Closed, h.Server.State);
        Assert.Contains("DTLS", h.Server.CloseReason);
        Assert.Equal([h.Server.CloseReason!], h.ServerEvents.Closed);

        h.Client.Close("again");
        h.Server.Close("again");
        h.Advance(TimeSpan.FromSeconds(40), TimeSpan.FromMilliseconds(100));
        Assert.Equal(["user hung up"], h.ClientEvents.Closed);
        Assert.Single(h.ServerEvents.Closed);
        Assert.Equal(PeerConnectionState.Closed, h.Server.State);
        Assert.Equal(PeerConnectionState.Closed, h.Client.State);
    }

    [Fact]
    public void Server_close_is_seen_by_the_client()
    {
        using var h = new PeerConnectionHarness(seed: 8);
        h.Start();
        Assert.True(h.ConnectBoth());

        h.Server.Close("session ended");
        Assert.Equal(["session ended"], h.ServerEvents.Closed);
        Assert.True(h.RunUntil(() => h.Client.State != PeerConnectionState.Connected));
        Assert.Equal(PeerConnectionState.Closed, h.Client.State);
        Assert.Contains("DTLS", h.Client.CloseReason);
        Assert.Single(h.ClientEvents.Closed);

        // Nothing more goes out from either side's media API.
        Assert.False(Send(h.Client, MakeRtp(ClientSsrc, 1, "late")));
        Assert.False(Send(h.Server, MakeRtp(ServerSsrc, 1, "late")));
    }
}
