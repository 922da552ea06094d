using System.Text;
using Microsoft.AspNetCore.SignalR;
using TeleRehab.LoadTests;
using TeleRehab.Media.Tests.Rooms;
using TeleRehab.Media.WebRtc;
using Xunit.Abstractions;

namespace TeleRehab.Media.Tests.RoomClient;

/// <summary>An offer over the limits in a group room (the security issue: 500 sendonly video m-lines) is refused as
/// <c>invalid:</c> before anything is allocated; the well-behaved participants stay connected, hear nothing of it, keep
/// receiving, and can still renegotiate.</summary>
[Collection(RoomClientCollection.Name)]
public sealed class OfferLimitsRoomTests(ITestOutputHelper output) : IAsyncLifetime
{
    private RoomTestKit _kit = null!;

    public async Task InitializeAsync() => _kit = await RoomTestKit.StartAsync(output);

    public async Task DisposeAsync() => await _kit.DisposeAsync();

    private static async Task<string> RefusedAsync(Func<Task> call)
    {
        var error = await Assert.ThrowsAsync<HubException>(call);
        Assert.Contains("invalid: ", error.Message);
        return error.Message;
    }

    private static int TracksChanged(SessionClient client) => client.Events.Count(e => e.Name == HubNames.TracksChanged);

    [Fact]
    public async Task Offer_with_500_m_lines_is_refused_and_the_room_carries_on()
    {
        var session = await _kit.Api.CreateAsync("group", waitingRoom: false, title: "limits");
        var therapist = await _kit.JoinAsync("therapist", session.TherapistLink);
        var alice = await _kit.JoinAsync("alice", await _kit.Api.InviteAsync(session.Id, "patient", "Alice"));
        await RoomTestKit.WaitReceivingAsync(alice, therapist.ParticipantId);
        await RoomTestKit.WaitReceivingAsync(therapist, alice.ParticipantId);
        var memory = _kit.Rooms.RetransmissionMemory;
        var reserved = memory.ReservedBytes;
        Assert.True(reserved > 0);

        var mallory = _kit.NewClient("mallory", new SessionClientOptions { AutoNegotiate = false });
        await mallory.JoinAsync(SessionClient.TokenFromLink(await _kit.Api.InviteAsync(session.Id, "patient", "Mallory")));
        await Task.Delay(500); // the join's own events (ParticipantJoined) have arrived
        var (aliceTracksChanged, therapistTracksChanged) = (TracksChanged(alice), TracksChanged(therapist));
        var (aliceNegotiations, therapistNegotiations) = (alice.Negotiations, therapist.Negotiations);

        await using var media = new WebRtcClient(_kit.ClientWorker.Worker, _kit.Certificate);
        var huge = OfferLimitsTests.WithSections(media.Offer, 500);
        Assert.True(Encoding.UTF8.GetByteCount(huge) < 60 * 1024, $"{huge.Length} characters"); // fits a hub message
        var message = await RefusedAsync(() => mallory.InvokeAsync<NegotiateResultDto>(HubNames.Negotiate, new NegotiateRequestDto(huge, [])));
        Assert.Contains("the offer has 500 m-lines; at most 64", message);
        // Four cameras from a patient (the role allows three).
        var fourVideos = new OfferLimitsTests.Offerer().Offer(1, 4).Sdp;
        message = await RefusedAsync(() => mallory.InvokeAsync<NegotiateResultDto>(HubNames.Negotiate, new NegotiateRequestDto(fourVideos, [])));
        Assert.Contains("a patient may publish at most 3 video tracks; the offer sends 4", message);
        Assert.Equal(reserved, memory.ReservedBytes);

        // The well-behaved participants: connected, told nothing, still receiving.
        await RoomTestKit.AssertKeepsReceivingAsync(alice, therapist.ParticipantId, "alice after the refused offers");
        await RoomTestKit.AssertKeepsReceivingAsync(therapist, alice.ParticipantId, "therapist after the refused offers");
        foreach (var client in new[] { alice, therapist, mallory }) Assert.False(client.Ended.IsCompleted, $"{client.Name} was disconnected");
        Assert.Equal(aliceTracksChanged, TracksChanged(alice));
        Assert.Equal(therapistTracksChanged, TracksChanged(therapist));
        Assert.Equal((aliceNegotiations, therapistNegotiations), (alice.Negotiations, therapist.Negotiations));
        Assert.Empty(alice.Errors);
        Assert.Empty(therapist.Errors);
        Assert.DoesNotContain(_kit.Rooms.Rooms.Single(r => r.Id == session.Id).Tracks, t => t.ParticipantId == mallory.ParticipantId);

        // Mallory then publishes properly: the others are told once and renegotiate successfully, and receive her.
        await mallory.NegotiateAsync();
        await mallory.WaitMediaConnectedAsync(RoomTestKit.Generous);
        mallory.StartSending(_kit.Pacer);
        await RoomTestKit.WaitReceivingAsync(alice, mallory.ParticipantId);
        await RoomTestKit.WaitReceivingAsync(therapist, mallory.ParticipantId);
        Assert.True(alice.Negotiations > aliceNegotiations);
        Assert.True(therapist.Negotiations > therapistNegotiations);
        Assert.True(TracksChanged(alice) > aliceTracksChanged);
        await RoomTestKit.AssertKeepsReceivingAsync(alice, therapist.ParticipantId, "alice after renegotiating");
        foreach (var client in new[] { alice, therapist, mallory })
        {
            Assert.False(client.Ended.IsCompleted, $"{client.Name} was disconnected");
            Assert.Empty(client.Errors);
            Assert.All(client.Received, s => Assert.Equal(0, s.Damaged));
        }
        Assert.True(memory.ReservedBytes > reserved);

        // Everyone leaves: the room closes and its retransmission memory is all given back.
        foreach (var client in new[] { alice, therapist, mallory }) await client.LeaveAsync();
        Assert.True(await RoomTestKit.WaitUntilAsync(() => memory.ReservedBytes == 0 && _kit.Rooms.RoomCount == 0, RoomTestKit.Generous),
            $"reserved {memory.ReservedBytes} bytes, {_kit.Rooms.RoomCount} rooms");
    }
}
