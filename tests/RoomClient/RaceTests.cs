using TeleRehab.LoadTests;
using Xunit.Abstractions;

namespace TeleRehab.Media.Tests.RoomClient;

/// <summary>Control-plane races a client can provoke: renegotiating without pause while the therapist removes it.</summary>
[Collection(RoomClientCollection.Name)]
public sealed class RaceTests(ITestOutputHelper output) : IAsyncLifetime
{
    private RoomTestKit _kit = null!;

    // Races are driven faster than any page calls: the per-connection call rate is not what these tests are about.
    public async Task InitializeAsync() => _kit = await RoomTestKit.StartAsync(output,
        ("TeleRehab:Limits:HubCallsPerSecond", "100000"), ("TeleRehab:Limits:HubCallBurst", "100000"));

    public async Task DisposeAsync() => await _kit.DisposeAsync();

    [Fact]
    public async Task Removed_participant_that_keeps_renegotiating_leaves_no_peer_behind_and_receives_nothing_more()
    {
        var session = await _kit.Api.CreateAsync("group", waitingRoom: false, title: "race");
        var therapist = await _kit.JoinAsync("therapist", session.TherapistLink);
        for (var round = 0; round < 5; round++)
        {
            var patient = await _kit.JoinAsync($"patient{round}", await _kit.Api.InviteAsync(session.Id, "patient", $"Patient {round}"));
            await RoomTestKit.WaitReceivingAsync(patient, therapist.ParticipantId);
            var subscriptions = patient.Media!.ReceiveSections
                .Select(s => new SubscriptionRequestDto(s.Mid, patient.Tracks.First(t => t.Kind == s.Kind).TrackId))
                .ToList();
            using var stop = new CancellationTokenSource();
            var answered = 0;
            var spam = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested && !patient.Ended.IsCompleted)
                {
                    try
                    {
                        var offer = patient.Media.CreateOffer(patient.Media.ReceiveSections);
                        await patient.InvokeAsync<NegotiateResultDto>(HubNames.Negotiate, new NegotiateRequestDto(offer, subscriptions));
                        answered++;
                    }
                    catch (Exception)
                    {
                        // refused once removed, or the connection closed
                    }
                }
            });
            await Task.Delay(100);
            await therapist.RemoveParticipantAsync(patient.ParticipantId);
            await patient.Ended.WaitAsync(RoomTestKit.Generous);
            stop.Cancel();
            await spam.WaitAsync(RoomTestKit.Generous);
            Assert.True(answered > 0);

            Assert.True(await RoomTestKit.WaitUntilAsync(() => _kit.Host.Media.PeerCount == 1, RoomTestKit.Generous),
                $"round {round}: server peers {_kit.Host.Media.PeerCount} (a removed participant's peer was left behind)");
            var room = Assert.Single(_kit.Rooms.Rooms);
            var remaining = Assert.Single(await room.GetDiagnosticsAsync());
            Assert.Equal(therapist.ParticipantId, remaining.Id);
            Assert.Equal(0, remaining.Subscribers);
            Assert.Equal(0, remaining.Subscriptions);
            await patient.DisposeAsync();
        }
        Assert.Empty(therapist.Errors);
    }
}
