using TeleRehab.LoadTests;
using TeleRehab.Media.Rooms;
using TeleRehab.Media.Tests.WebRtc;
using Xunit.Abstractions;

namespace TeleRehab.Media.Tests.RoomClient;

/// <summary>Rooms accept a data channel section (issue 9): a participant whose offer has one gets the SCTP transport
/// on its server peer, renegotiations keep it, garbage on it is dropped and counted, and the SFU's media keeps flowing.</summary>
[Collection(RoomClientCollection.Name)]
public sealed class DataChannelRoomTests(ITestOutputHelper output) : IAsyncLifetime
{
    private RoomTestKit _kit = null!;

    public async Task InitializeAsync() => _kit = await RoomTestKit.StartAsync(output);

    public async Task DisposeAsync() => await _kit.DisposeAsync();

    [Fact]
    public async Task Participants_with_a_data_channel_get_the_sctp_transport_and_media_still_flows()
    {
        var (_, therapist, patient) = await _kit.StartPairAsync("dc", new SessionClientOptions { DataChannel = true });

        var session = patient.Media!.Session!;
        var data = session.DataChannel;
        Assert.NotNull(data);
        Assert.Equal(5000, data.SctpPort);
        Assert.Equal(262144L, data.MaxMessageSize);
        Assert.Contains(data.Mid, session.BundleMids);

        var server = Assert.IsType<RoomParticipant>(_kit.Host.Media.FindPeer(session.RemoteIceUfrag));
        var transport = server.DataChannels;
        Assert.NotNull(transport);
        Assert.True(await RoomTestKit.WaitUntilAsync(() => transport.IsStarted, RoomTestKit.Generous));

        byte[][] garbage = [[1, 2, 3], new byte[600], DataChannelTransportTests.InitPacket(sourcePort: 4999)];
        foreach (var record in garbage) Assert.True(patient.Media.SendApplicationData(record));
        Assert.True(patient.Media.SendApplicationData(DataChannelTransportTests.InitPacket()));
        Assert.True(await RoomTestKit.WaitUntilAsync(() => transport.IsConnected && transport.PacketsDropped == garbage.Length, RoomTestKit.Generous),
            $"the transport saw {transport.PacketsReceived} good and {transport.PacketsDropped} bad packets");

        // The room knows one channel, "pose" (RoomDataChannels): any other the page opens is refused by a stream reset.
        var client = patient.Media.Connection!.DataChannels!;
        Assert.True(await RoomTestKit.WaitUntilAsync(() => client.IsConnected, RoomTestKit.Generous));
        var opened = new TaskCompletionSource<(ushort Chat, ushort Pose)>(TaskCreationOptions.RunContinuationsAsynchronously);
        patient.Media.Invoke(() => opened.TrySetResult((client.OpenChannel("chat")!.StreamId, client.OpenChannel(RoomDataChannels.PoseLabel)!.StreamId)));
        var (chat, pose) = await opened.Task.WaitAsync(RoomTestKit.Generous);
        Assert.True(await RoomTestKit.WaitUntilAsync(() => transport.ChannelsRefused == 1 && !client.Channels.ContainsKey(chat)
            && transport.Channels.ContainsKey(pose), RoomTestKit.Generous),
            $"refused {transport.ChannelsRefused}, client channels [{string.Join(", ", client.Channels.Keys)}]");
        Assert.Equal(1, _kit.Host.Media.DataChannels.ChannelsRefusedTotal);
        Assert.Equal(RoomDataChannels.PoseLabel, transport.Channels[pose].Label);

        await RoomTestKit.AssertKeepsReceivingAsync(therapist, patient.ParticipantId, "after garbage and a refused channel on the patient's data channel");
        await RoomTestKit.AssertKeepsReceivingAsync(patient, therapist.ParticipantId, "after garbage on the patient's data channel");
        Assert.Same(transport, server.DataChannels);

        // The therapist joined first and renegotiated when the patient's tracks arrived: the data section was answered
        // again on the same connection, which keeps one transport (the association lives as long as DTLS).
        Assert.True(therapist.Negotiations >= 2, $"the therapist negotiated {therapist.Negotiations} times");
        var therapistServer = Assert.IsType<RoomParticipant>(_kit.Host.Media.FindPeer(therapist.Media!.Session!.RemoteIceUfrag));
        Assert.NotNull(therapistServer.DataChannels);
        Assert.NotNull(therapist.Media.Session.DataChannel);
        Assert.Equal(0, therapistServer.DataChannels.PacketsDropped);
        Assert.Empty(patient.Errors);
        Assert.Empty(therapist.Errors);
    }
}
