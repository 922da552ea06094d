using TeleRehab.LoadTests;
using Xunit.Abstractions;

namespace TeleRehab.Media.Tests.RoomClient;

/// <summary>A participant that vanishes without a goodbye (no DTLS close_notify, no Leave) and does not come back (a
/// crashed client: it never reconnects) is dropped: by ICE consent freshness (RFC 7675) when its hub connection stays
/// open, once the reconnect grace period (2 s here) has passed when the hub connection is cut too.</summary>
[Collection(RoomClientCollection.Name)]
public sealed class VanishTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly SessionClientOptions Checking = new() { ConsentInterval = TimeSpan.FromMilliseconds(300), Reconnect = false };
    private RoomTestKit _kit = null!;

    public async Task InitializeAsync() => _kit = await RoomTestKit.StartAsync(output, ("TeleRehab:Media:ConsentTimeoutSeconds", "2"),
        ("TeleRehab:Rooms:ReconnectGraceSeconds", "2"));

    public async Task DisposeAsync() => await _kit.DisposeAsync();

    private async Task<(string SessionId, SessionClient Therapist, SessionClient Stayer, SessionClient Vanisher)> StartGroupAsync()
    {
        var session = await _kit.Api.CreateAsync("group", waitingRoom: false, title: "vanish");
        var therapist = await _kit.JoinAsync("therapist", session.TherapistLink, Checking);
        var stayer = await _kit.JoinAsync("stayer", await _kit.Api.InviteAsync(session.Id, "patient", "Stayer"), Checking);
        var vanisher = await _kit.JoinAsync("vanisher", await _kit.Api.InviteAsync(session.Id, "patient", "Vanisher"), Checking);
        foreach (var (receiver, sender) in new[] { (therapist, stayer), (therapist, vanisher), (stayer, therapist), (stayer, vanisher), (vanisher, therapist) })
            await RoomTestKit.WaitReceivingAsync(receiver, sender.ParticipantId);
        Assert.Equal(3, _kit.Host.Media.PeerCount);
        return (session.Id, therapist, stayer, vanisher);
    }

    private async Task AssertDroppedAsync(string sessionId, SessionClient therapist, SessionClient stayer, SessionClient vanisher, bool viaConsent)
    {
        var gone = vanisher.ParticipantId;
        foreach (var other in new[] { therapist, stayer })
        {
            var left = await other.WaitForEventAsync<ParticipantLeftInfo>(HubNames.ParticipantLeft, e => e.ParticipantId == gone, RoomTestKit.Generous);
            if (viaConsent) Assert.Contains("consent", left.Reason);
            await other.WaitForEventAsync<List<TrackInfoDto>>(HubNames.TracksChanged,
                tracks => tracks.All(t => t.ParticipantId != gone) && tracks.Any(), RoomTestKit.Generous);
            Assert.True(await RoomTestKit.WaitUntilAsync(() => other.Tracks.All(t => t.ParticipantId != gone) && other.IsNegotiationCurrent, RoomTestKit.Generous));
            Assert.Empty(other.Errors);
        }

        // Server state: the vanished peer is gone from the media plane, the room and the registry.
        Assert.True(await RoomTestKit.WaitUntilAsync(() => _kit.Host.Media.PeerCount == 2, RoomTestKit.Generous), $"server peers: {_kit.Host.Media.PeerCount}");
        var room = Assert.Single(_kit.Rooms.Rooms);
        var diagnostics = await room.GetDiagnosticsAsync();
        Assert.Equal(2, diagnostics.Count);
        Assert.DoesNotContain(diagnostics, d => d.Id == gone);
        Assert.All(diagnostics, d =>
        {
            Assert.Equal(0, d.SubscribersClosed);
            Assert.Equal(0, d.SubscriptionsToClosedPublishers);
            Assert.Equal(1 * 2, d.Subscriptions); // the other remaining participant's audio and video
            Assert.Equal(2, d.Subscribers);
        });
        Assert.Equal("left", (await _kit.RegistryStatesAsync(sessionId))[gone]);
        // The vanished client's hub connection is closed by the server (or was cut by the client).
        await vanisher.Ended.WaitAsync(RoomTestKit.Generous);

        // The others keep talking.
        await RoomTestKit.AssertKeepsReceivingAsync(therapist, stayer.ParticipantId, "after the drop");
        await RoomTestKit.AssertKeepsReceivingAsync(stayer, therapist.ParticipantId, "after the drop");
        Assert.Equal(2, _kit.Host.Media.PeerCount);
    }

    [Fact]
    public async Task Vanished_media_with_the_hub_connection_still_open_is_dropped_after_the_consent_timeout()
    {
        var (sessionId, therapist, stayer, vanisher) = await StartGroupAsync();

        vanisher.VanishMedia(); // UDP socket closed: no close_notify, no more consent checks; the hub stays connected

        await AssertDroppedAsync(sessionId, therapist, stayer, vanisher, viaConsent: true);
        var reason = await vanisher.Ended;
        Assert.Contains("hub connection", reason); // the server closed it after the media dropped
    }

    [Fact]
    public async Task Vanished_media_and_hub_connection_cut_without_leave_is_dropped()
    {
        var (sessionId, therapist, stayer, vanisher) = await StartGroupAsync();

        vanisher.VanishMedia();
        vanisher.AbortHub(); // the TCP connection is aborted: no close frame, no Leave

        await AssertDroppedAsync(sessionId, therapist, stayer, vanisher, viaConsent: false);
    }

    [Fact]
    public async Task Participants_that_keep_checking_stay_past_several_consent_timeouts()
    {
        var (sessionId, therapist, stayer, vanisher) = await StartGroupAsync();
        await Task.Delay(TimeSpan.FromSeconds(5));
        Assert.Equal(3, _kit.Host.Media.PeerCount);
        foreach (var client in new[] { therapist, stayer, vanisher })
        {
            Assert.False(client.Ended.IsCompleted, client.Ended.IsCompleted ? client.Ended.Result : "");
            Assert.DoesNotContain(client.Events, e => e.Name == HubNames.ParticipantLeft);
        }
        await RoomTestKit.AssertKeepsReceivingAsync(therapist, vanisher.ParticipantId, "past the consent timeout");
        var states = await _kit.RegistryStatesAsync(sessionId);
        Assert.All(new[] { therapist, stayer, vanisher }, c => Assert.Equal("connected", states[c.ParticipantId]));
    }
}
