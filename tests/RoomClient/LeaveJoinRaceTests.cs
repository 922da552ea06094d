using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using TeleRehab.LoadTests;
using TeleRehab.Media.WebRtc;
using TeleRehab.Signaling.Sessions;
using Xunit.Abstractions;

namespace TeleRehab.Media.Tests.RoomClient;

/// <summary>The last person leaving while someone joins: the room empties (its live room forgotten, its media room
/// closed) at the moment a new live room is made. The joiner must get a media room that negotiates, never the one
/// being closed (which refused every Negotiate with "the session has ended" until everyone left).</summary>
[Collection(RoomClientCollection.Name)]
public sealed class LeaveJoinRaceTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Rounds = 500;

    private RoomTestKit _kit = null!;

    // Races are driven faster than any page calls: the per-connection call rate is not what these tests are about. A
    // closed hub connection leaves at once here (no reconnect grace, clients that do not reconnect): the race is
    // between the last one out and the next one in.
    public async Task InitializeAsync() => _kit = await RoomTestKit.StartAsync(output,
        ("TeleRehab:Limits:HubCallsPerSecond", "100000"), ("TeleRehab:Limits:HubCallBurst", "100000"), ("TeleRehab:Rooms:ReconnectGraceSeconds", "0"));

    public async Task DisposeAsync() => await _kit.DisposeAsync();

    /// <summary>One side of the race: a hub connection (media negotiated with a fixed real offer, or fully connected).</summary>
    private sealed class Side(string token, string offer)
    {
        public string Token { get; } = token;
        public string Offer { get; } = offer;
        public SessionClient Client { get; set; } = null!;
        public bool FullMedia { get; set; }
        public string ParticipantId { get; set; } = "";
    }

    private async Task<SessionClient> ConnectAsync(string name, bool fullMedia)
    {
        var client = _kit.NewClient(name, new SessionClientOptions { AutoNegotiate = fullMedia, Reconnect = false });
        await client.ConnectAsync().WaitAsync(RoomTestKit.Generous);
        return client;
    }

    [Fact]
    public async Task A_join_racing_the_last_leave_always_gets_media_that_negotiates()
    {
        var session = await _kit.Api.CreateAsync("one-to-one", waitingRoom: false, title: "leave/join race");
        var registry = _kit.Host.Services.GetRequiredService<SessionRegistry>();
        await using var therapistOffers = new WebRtcClient(_kit.ClientWorker.Worker, _kit.Certificate);
        await using var patientOffers = new WebRtcClient(_kit.ClientWorker.Worker, _kit.Certificate);
        var sides = new[]
        {
            new Side(SessionClient.TokenFromLink(session.TherapistLink), therapistOffers.Offer),
            new Side(SessionClient.TokenFromLink(session.PatientLink!), patientOffers.Offer),
        };
        sides[0].Client = await ConnectAsync("therapist-0", fullMedia: false);
        sides[1].Client = await ConnectAsync("patient-0", fullMedia: false);
        sides[0].ParticipantId = (await sides[0].Client.JoinAsync(sides[0].Token)).ParticipantId;
        await sides[0].Client.InvokeAsync<NegotiateResultDto>(HubNames.Negotiate, new NegotiateRequestDto(sides[0].Offer, []));

        var failures = new List<string>();
        int leaveFirst = 0, joinFirst = 0, mediaConnected = 0, disconnects = 0;
        var random = new Random(7);
        var clock = Stopwatch.StartNew();
        for (var round = 0; round < Rounds; round++)
        {
            var leaver = sides[round % 2];
            var joiner = sides[(round + 1) % 2];
            // Most rounds leave with Leave; some close the hub connection (gracefully or cut); a handful of joiners
            // connect media for real (DTLS up), the others negotiate with a real offer only.
            var mode = (round % 10) switch { 7 => "stop", 9 => "abort", _ => "leave" };
            if (round % 100 == 50)
            {
                await joiner.Client.DisposeAsync();
                joiner.Client = await ConnectAsync($"{(joiner == sides[0] ? "therapist" : "patient")}-{round}-media", fullMedia: true);
                joiner.FullMedia = true;
            }

            var skew = random.Next(-2, 3); // ms: which of the two the server sees first varies
            var leave = Task.Run(async () =>
            {
                if (skew > 0) await Task.Delay(skew);
                switch (mode)
                {
                    case "leave": await leaver.Client.InvokeAsync(HubNames.Leave); break;
                    case "stop": await leaver.Client.Hub.StopAsync(); break;
                    default: leaver.Client.AbortHub(); break;
                }
            });
            var join = Task.Run(async () =>
            {
                if (skew < 0) await Task.Delay(-skew);
                return await joiner.Client.JoinAsync(joiner.Token);
            });
            JoinResultDto joined;
            try
            {
                await leave.WaitAsync(RoomTestKit.Generous);
                joined = await join.WaitAsync(RoomTestKit.Generous);
            }
            catch (Exception ex)
            {
                failures.Add($"round {round} ({mode}): join failed: {ex.Message}");
                break;
            }
            joiner.ParticipantId = joined.ParticipantId;
            if (joined.State != "joined") failures.Add($"round {round}: state {joined.State}");
            if (joined.Participants.Count == 1) leaveFirst++;
            else joinFirst++;

            try
            {
                if (joiner.FullMedia)
                {
                    // JoinAsync negotiated already (AutoNegotiate): the media connection must come up.
                    await joiner.Client.WaitMediaConnectedAsync(RoomTestKit.Generous);
                    mediaConnected++;
                }
                else
                {
                    var answer = await joiner.Client.InvokeAsync<NegotiateResultDto>(HubNames.Negotiate, new NegotiateRequestDto(joiner.Offer, []))
                        .WaitAsync(RoomTestKit.Generous);
                    if (!answer.Sdp.StartsWith("v=0", StringComparison.Ordinal)) failures.Add($"round {round}: not an answer");
                }
            }
            catch (Exception ex)
            {
                failures.Add($"round {round} ({mode}, {(joined.Participants.Count == 1 ? "leave first" : "join first")}): Negotiate failed: {ex.Message}");
                if (failures.Count >= 10) break;
            }

            // The leaver becomes the next round's joiner: on the same connection after Leave, else on a new one once
            // the server has seen the old one go (a full-media client starts afresh too: its peer was for the old room).
            if (mode == "leave" && !leaver.FullMedia) continue;
            var leftId = leaver.ParticipantId;
            if (mode != "leave")
            {
                disconnects++;
                Assert.True(await RoomTestKit.WaitUntilAsync(() => registry.TryGet(session.Id, out var s)
                    && s!.Participants.Single(p => p.Id == leftId).State == ParticipantState.Left, RoomTestKit.Generous),
                    $"round {round}: the server did not see {leftId}'s connection close");
            }
            await leaver.Client.DisposeAsync();
            leaver.Client = await ConnectAsync($"{(leaver == sides[0] ? "therapist" : "patient")}-{round}", fullMedia: false);
            leaver.FullMedia = false;
        }
        clock.Stop();
        _kit.Log($"{Rounds} rounds in {clock.Elapsed.TotalSeconds:F1} s: leave first {leaveFirst}, join first {joinFirst}, " +
            $"closed connections {disconnects}, media connected {mediaConnected}, failures {failures.Count}");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.Equal(Rounds / 100, mediaConnected);
        Assert.True(leaveFirst > 0, "the room never emptied before the join: the race was not exercised");

        // Everyone gone: nothing is left behind (no live room, media room or peer).
        await sides[Rounds % 2].Client.InvokeAsync(HubNames.Leave); // the last round's joiner
        foreach (var side in sides) await side.Client.DisposeAsync();
        Assert.True(await RoomTestKit.WaitUntilAsync(() => _kit.Coordinator.LiveRoomCount == 0 && _kit.Rooms.RoomCount == 0 && _kit.Host.Media.PeerCount == 0,
            RoomTestKit.Generous), $"live rooms {_kit.Coordinator.LiveRoomCount}, media rooms {_kit.Rooms.RoomCount}, peers {_kit.Host.Media.PeerCount}");
    }
}
