using TeleRehab.Media.Dtls;
using TeleRehab.Media.Net;
using TeleRehab.Media.WebRtc;
using static TeleRehab.Media.Tests.WebRtc.PeerConnectionTests;

namespace TeleRehab.Media.Tests.WebRtc;

/// <summary>Role, retransmission and early-close cases of two <see cref="PeerConnection"/>s on the virtual network.</summary>
public sealed class PeerConnectionLifecycleTests
{
    [Fact]
    public void Server_as_dtls_client_connects_and_carries_media()
    {
        using var h = new PeerConnectionHarness(seed: 31, serverIsDtlsClient: true);
        h.Start();
        Assert.True(h.ConnectBoth(), $"server {h.Server.State} ({h.Server.CloseReason}), client {h.Client.State} ({h.Client.CloseReason})");
        Assert.Equal(DtlsRole.Client, h.Server.DtlsRole);
        Assert.Equal(DtlsRole.Server, h.Client.DtlsRole);
        Assert.NotNull(h.Client.SrtpProfile);
        Assert.Equal(h.Server.SrtpProfile, h.Client.SrtpProfile);
        AssertMediaBothWays(h, 10, "reversed");
    }

    [Fact]
    public void Lost_first_check_and_lost_first_dtls_flights_are_retransmitted()
    {
        using var h = new PeerConnectionHarness(seed: 32);
        var droppedStun = 0;
        var droppedUp = 0;
        var droppedDown = 0;
        h.Network.ClientToServerLink.Transform = datagram => PacketClassifier.Classify(datagram) switch
        {
            PacketKind.Stun => droppedStun++ > 0,
            PacketKind.Dtls => droppedUp++ > 0,
            _ => true,
        };
        h.Network.ServerToClientLink.Transform = datagram => PacketClassifier.Classify(datagram) != PacketKind.Dtls || droppedDown++ > 0;

        h.Start();
        Assert.True(h.ConnectBoth(), $"server {h.Server.State} ({h.Server.CloseReason}), client {h.Client.State} ({h.Client.CloseReason})");

        var checks = h.Network.Log.Count(d => d.From == "client" && PacketClassifier.Classify(d.Datagram) == PacketKind.Stun);
        Assert.True(checks >= 2, $"{checks} checks");
        Assert.True(droppedUp >= 2 && droppedDown >= 2);
        // The first ClientHello was lost, so the client sent its first flight at least twice.
        var clientHellos = h.Network.Log.Count(d => d.From == "client" && IsClientHello(d.Datagram));
        Assert.True(clientHellos >= 2, $"{clientHellos} ClientHello datagrams");
        AssertMediaBothWays(h, 5, "retransmitted");
    }

    /// <summary>DTLS record: content type 22 (handshake), epoch 0, handshake type 1 (ClientHello) at offset 13.</summary>
    private static bool IsClientHello(byte[] datagram) =>
        datagram.Length > 13 && datagram[0] == 22 && datagram[3] == 0 && datagram[4] == 0 && datagram[13] == 1;

    [Fact]
    public void Close_during_the_handshake_reports_once_and_never_connects()
    {
        using var h = new PeerConnectionHarness(seed: 33);
        // Hold back everything the server sends, so the client stays mid-handshake.
        h.Network.ServerToClientLink.Blocked = true;
        h.Start();
        Assert.True(h.RunUntil(() => h.Server.State == PeerConnectionState.Connecting));
        Assert.Equal(PeerConnectionState.Checking, h.Client.State);

        h.Server.Close("gone before connecting");
        Assert.Equal(PeerConnectionState.Closed, h.Server.State);
        Assert.Equal(["gone before connecting"], h.ServerEvents.Closed);

        // The aborted handshake's completion comes back through dispatch and changes nothing.
        h.Network.ServerToClientLink.Blocked = false;
        Assert.False(h.RunUntil(() => h.ServerEvents.ConnectedCount > 0, realLimit: TimeSpan.FromSeconds(1)));
        Assert.Equal(PeerConnectionState.Closed, h.Server.State);
        Assert.Single(h.ServerEvents.Closed);
        Assert.Null(h.Server.SrtpProfile);
        Assert.False(Send(h.Server, MakeRtp(ServerSsrc, 1, "never")));
    }

    [Fact]
    public void Client_dispose_mid_handshake_closes_once()
    {
        var h = new PeerConnectionHarness(seed: 34);
        h.Network.ServerToClientLink.Blocked = true;
        h.Start();
        Assert.True(h.RunUntil(() => h.Server.State == PeerConnectionState.Connecting));
        h.Network.ServerToClientLink.Blocked = false;
        Assert.True(h.RunUntil(() => h.Client.State == PeerConnectionState.Connecting));

        h.Client.Dispose();
        Assert.Equal(PeerConnectionState.Closed, h.Client.State);
        Assert.Equal(["disposed"], h.ClientEvents.Closed);
        h.Settle();
        Assert.Equal(0, h.ClientEvents.ConnectedCount);
        Assert.Single(h.ClientEvents.Closed);
        h.Dispose();
        Assert.Single(h.ClientEvents.Closed);
        Assert.Single(h.ServerEvents.Closed);
    }
}
