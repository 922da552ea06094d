using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Time.Testing;
using TeleRehab.LoadTests;
using TeleRehab.Signaling.Sessions;
using Xunit.Abstractions;

namespace TeleRehab.Media.Tests.RoomClient;

/// <summary>Bad input at the session hub and the media port. Each case checks the refusal, that nothing changed, and
/// that another room's media keeps flowing during and after (a background one-to-one session whose two C#
/// participants exchange RTP throughout).</summary>
[Collection(RoomClientCollection.Name)]
public sealed class BadInputTests(ITestOutputHelper output) : IAsyncLifetime
{
    private RoomTestKit _kit = null!;
    private SessionClient _bgTherapist = null!;
    private SessionClient _bgPatient = null!;
    private string _bgSessionId = "";
    private SessionApiClientSession _room = null!;

    private sealed record SessionApiClientSession(string Id, SessionClient Therapist, SessionClient Alice, SessionClient Bob);

    public async Task InitializeAsync()
    {
        _kit = await RoomTestKit.StartAsync(output);
        (_bgSessionId, _bgTherapist, _bgPatient) = await _kit.StartPairAsync("background");
        var session = await _kit.Api.CreateAsync("group", waitingRoom: false, title: "foreground");
        var therapist = await _kit.JoinAsync("therapist", session.TherapistLink);
        var alice = await _kit.JoinAsync("alice", await _kit.Api.InviteAsync(session.Id, "patient", "Alice"));
        var bob = await _kit.JoinAsync("bob", await _kit.Api.InviteAsync(session.Id, "patient", "Bob"));
        await RoomTestKit.WaitReceivingAsync(therapist, alice.ParticipantId);
        await RoomTestKit.WaitReceivingAsync(therapist, bob.ParticipantId);
        _room = new SessionApiClientSession(session.Id, therapist, alice, bob);
    }

    public async Task DisposeAsync() => await _kit.DisposeAsync();

    /// <summary>Runs the bad input while the background room exchanges media; asserts it kept flowing during and after.</summary>
    private async Task WhileAnotherRoomFlowsAsync(Func<Task> badInput)
    {
        var audio = _bgTherapist.ReceivedFrom(_bgPatient.ParticipantId, "audio").Packets;
        var video = _bgPatient.ReceivedFrom(_bgTherapist.ParticipantId, "video").Packets;
        await badInput();
        Assert.True(await RoomTestKit.WaitUntilAsync(() =>
            _bgTherapist.ReceivedFrom(_bgPatient.ParticipantId, "audio").Packets > audio &&
            _bgPatient.ReceivedFrom(_bgTherapist.ParticipantId, "video").Packets > video, RoomTestKit.Generous), "the other room's media stopped");
        await RoomTestKit.AssertKeepsReceivingAsync(_bgTherapist, _bgPatient.ParticipantId, "other room, after");
        await RoomTestKit.AssertKeepsReceivingAsync(_bgPatient, _bgTherapist.ParticipantId, "other room, after");
        foreach (var client in new[] { _bgTherapist, _bgPatient })
        {
            Assert.False(client.Ended.IsCompleted, $"{client.Name} was disconnected");
            Assert.All(client.Received, s => Assert.Equal(0, s.Damaged));
            Assert.Empty(client.Errors);
        }
    }

    private static async Task<string> RefusedAsync(Func<Task> call, string code, string what = "")
    {
        HubException? error = null;
        try
        {
            await call();
        }
        catch (HubException ex)
        {
            error = ex;
        }
        Assert.True(error is not null, $"not refused: {what}");
        Assert.Contains(code, error.Message);
        return error.Message;
    }

    private string Sign(string sessionId, string participantId, ParticipantRole role, TimeProvider time, TimeSpan? lifetime = null) =>
        new JoinTokenService(RoomTestKit.SigningKey, lifetime ?? TimeSpan.FromHours(1), time).Issue(sessionId, participantId, role, "Someone");

    private async Task AssertForegroundUnchangedAsync()
    {
        var (therapist, alice, bob) = (_room.Therapist, _room.Alice, _room.Bob);
        foreach (var client in new[] { therapist, alice, bob })
        {
            Assert.False(client.Ended.IsCompleted, $"{client.Name} was disconnected");
            Assert.DoesNotContain(client.Events, e => e.Name is HubNames.RoomLocked or HubNames.MutedByTherapist or HubNames.Removed or HubNames.SessionEnded);
            Assert.DoesNotContain(client.Events, e => e.Name == HubNames.ParticipantUpdated && e.Payload is ParticipantInfo { AudioMuted: true } or ParticipantInfo { VideoMuted: true });
        }
        await RoomTestKit.AssertKeepsReceivingAsync(therapist, bob.ParticipantId, "foreground, after");
        await RoomTestKit.AssertKeepsReceivingAsync(bob, alice.ParticipantId, "foreground, after");
        var json = await _kit.Api.GetAsync(_room.Id);
        Assert.Equal(JsonValueKind.Null, json.GetProperty("endedAt").ValueKind);
        var states = await _kit.RegistryStatesAsync(_room.Id);
        Assert.All(new[] { therapist, alice, bob }, c => Assert.Equal("connected", states[c.ParticipantId]));
    }

    [Fact]
    public async Task Expired_token_is_refused_and_the_connection_can_still_join_with_a_valid_one()
    {
        await WhileAnotherRoomFlowsAsync(async () =>
        {
            var link = await _kit.Api.InviteAsync(_room.Id, "patient", "Late");
            var participantId = JsonDocument.Parse(Convert.FromBase64String(Pad(SessionClient.TokenFromLink(link).Split('.')[0])))
                .RootElement.GetProperty("pid").GetString()!;
            var past = new FakeTimeProvider(DateTimeOffset.UtcNow - TimeSpan.FromHours(3));
            var expired = Sign(_room.Id, participantId, ParticipantRole.Patient, past);
            var late = _kit.NewClient("late");
            var message = await RefusedAsync(() => late.JoinAsync(expired), "unauthorized:");
            Assert.Contains("expired", message);
            Assert.Equal("invited", (await _kit.RegistryStatesAsync(_room.Id))[participantId]);

            var result = await late.JoinAsync(SessionClient.TokenFromLink(link)).WaitAsync(RoomTestKit.Generous);
            Assert.Equal("joined", result.State);
        });
    }

    [Fact]
    public async Task Tampered_token_is_refused()
    {
        await WhileAnotherRoomFlowsAsync(async () =>
        {
            var token = SessionClient.TokenFromLink(await _kit.Api.InviteAsync(_room.Id, "patient", "Mallory"));
            var dot = token.IndexOf('.');
            foreach (var at in new[] { dot / 2, dot + 5, token.Length - 2 })
            {
                var flipped = token[at] == 'A' ? 'B' : 'A';
                var tampered = token[..at] + flipped + token[(at + 1)..];
                var client = _kit.NewClient($"tampered{at}");
                await RefusedAsync(() => client.JoinAsync(tampered), "unauthorized:");
                await RefusedAsync(() => client.InvokeAsync(HubNames.Negotiate, new NegotiateRequestDto("v=0", [])), "unauthorized:");
            }
            // A role changed in the payload is a tampered token too (the signature covers it).
            var payload = JsonDocument.Parse(Convert.FromBase64String(Pad(token[..dot]))).RootElement;
            var asTherapist = JsonSerializer.Serialize(new
            {
                sid = payload.GetProperty("sid").GetString(), pid = payload.GetProperty("pid").GetString(), role = "therapist",
                name = payload.GetProperty("name").GetString(), iat = payload.GetProperty("iat").GetInt64(), exp = payload.GetProperty("exp").GetInt64(),
            });
            var forged = System.Buffers.Text.Base64Url.EncodeToString(System.Text.Encoding.UTF8.GetBytes(asTherapist)) + token[dot..];
            await RefusedAsync(() => _kit.NewClient("forged").JoinAsync(forged), "unauthorized:");
        });
        await AssertForegroundUnchangedAsync();
    }

    [Fact]
    public async Task Therapist_of_one_session_cannot_control_a_participant_of_another()
    {
        await WhileAnotherRoomFlowsAsync(async () =>
        {
            var therapist = _room.Therapist;
            var victim = _bgPatient.ParticipantId;
            await RefusedAsync(() => therapist.MuteParticipantAsync(victim, "audio"), "not-found:");
            await RefusedAsync(() => therapist.MuteParticipantAsync(victim, "video"), "not-found:");
            await RefusedAsync(() => therapist.RemoveParticipantAsync(victim), "not-found:");
            await RefusedAsync(() => therapist.AdmitAsync(victim), "not-found:");
            await RefusedAsync(() => therapist.RemoveParticipantAsync(_bgTherapist.ParticipantId), "not-found:");
        });
        // The other session's patient is neither muted nor removed: its therapist still hears and sees it.
        Assert.DoesNotContain(_bgPatient.Events, e => e.Name is HubNames.MutedByTherapist or HubNames.Removed);
        // (ParticipantUpdated events only carry connection quality here: nobody was muted, nobody left.)
        Assert.DoesNotContain(_bgTherapist.Events, e => e.Name is HubNames.ParticipantLeft
            || (e.Name is HubNames.ParticipantUpdated && e.Payload is ParticipantInfo { AudioMuted: true } or ParticipantInfo { VideoMuted: true }));
        await RoomTestKit.AssertKeepsReceivingAsync(_bgTherapist, _bgPatient.ParticipantId, "other session's patient after the attempts");
        Assert.Equal("connected", (await _kit.RegistryStatesAsync(_bgSessionId))[_bgPatient.ParticipantId]);
        await AssertForegroundUnchangedAsync();
    }

    [Fact]
    public async Task Malformed_sdp_is_refused_as_invalid_and_the_participant_then_negotiates_properly()
    {
        SessionClient carol = null!;
        await WhileAnotherRoomFlowsAsync(async () =>
        {
            carol = _kit.NewClient("carol", new SessionClientOptions { AutoNegotiate = false });
            await carol.JoinAsync(SessionClient.TokenFromLink(await _kit.Api.InviteAsync(_room.Id, "patient", "Carol")));
            await using var other = new TeleRehab.Media.WebRtc.WebRtcClient(_kit.ClientWorker.Worker, _kit.Certificate);
            var realOffer = other.Offer;
            foreach (var sdp in new[] { "this is not sdp", "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\nm=audio\r\n", realOffer[..20],
                         realOffer.Replace("a=fingerprint:", "a=fingerprint-broken:"), realOffer.Replace("a=ice-ufrag:", "a=x-ufrag:") })
            {
                await RefusedAsync(() => carol.InvokeAsync<NegotiateResultDto>(HubNames.Negotiate, new NegotiateRequestDto(sdp, [])), "invalid:", sdp);
            }
            await RefusedAsync(() => carol.InvokeAsync<NegotiateResultDto>(HubNames.Negotiate,
                new NegotiateRequestDto(realOffer, [new("0", "x"), new("0", "y")])), "invalid:", "mid twice");
            await RefusedAsync(() => carol.InvokeAsync<NegotiateResultDto>(HubNames.Negotiate, new NegotiateRequestDto("", [])), "invalid:");

            await carol.NegotiateAsync();
            await carol.WaitMediaConnectedAsync(RoomTestKit.Generous);
            carol.StartSending(_kit.Pacer);
            await RoomTestKit.WaitReceivingAsync(carol, _room.Therapist.ParticipantId);
            await RoomTestKit.WaitReceivingAsync(_room.Therapist, carol.ParticipantId);
        });
        Assert.Equal(0, carol.OwnPacketsReceived);
        Assert.All(carol.Received, s => Assert.Equal(0, s.Damaged));
    }

    [Fact]
    public async Task Token_for_a_session_that_does_not_exist_is_not_found()
    {
        await WhileAnotherRoomFlowsAsync(async () =>
        {
            var token = Sign("NoSuchRoom00", "NoSuchPerson", ParticipantRole.Therapist, TimeProvider.System);
            await RefusedAsync(() => _kit.NewClient("stranger").JoinAsync(token), "not-found:");
        });
        Assert.Equal(2, _kit.Rooms.RoomCount);
        Assert.Equal(2, _kit.Coordinator.LiveRoomCount);
    }

    [Fact]
    public async Task Calls_before_join_are_unauthorized()
    {
        await WhileAnotherRoomFlowsAsync(async () =>
        {
            var client = _kit.NewClient("early");
            await client.ConnectAsync();
            await using var media = new TeleRehab.Media.WebRtc.WebRtcClient(_kit.ClientWorker.Worker, _kit.Certificate);
            var offer = media.Offer;
            await RefusedAsync(() => client.InvokeAsync<NegotiateResultDto>(HubNames.Negotiate, new NegotiateRequestDto(offer, [])), "unauthorized:");
            await RefusedAsync(() => client.AddIceCandidateAsync("1 1 udp 2130706431 127.0.0.1 9 typ host"), "unauthorized:");
            await RefusedAsync(() => client.SetMutedAsync("audio", true), "unauthorized:");
            await RefusedAsync(() => client.InvokeAsync(HubNames.Leave), "unauthorized:");
            await RefusedAsync(() => client.MuteParticipantAsync(_room.Bob.ParticipantId, "audio"), "unauthorized:");
            await RefusedAsync(() => client.EndSessionAsync(), "unauthorized:");
        });
        Assert.Equal(3, (await _kit.Rooms.Rooms.Single(r => r.Id == _room.Id).GetDiagnosticsAsync()).Count);
        await AssertForegroundUnchangedAsync();
    }

    [Fact]
    public async Task Patient_calling_therapist_controls_is_forbidden_and_nothing_changes()
    {
        await WhileAnotherRoomFlowsAsync(async () =>
        {
            var (alice, bob) = (_room.Alice, _room.Bob);
            await RefusedAsync(() => alice.AdmitAsync(bob.ParticipantId), "forbidden:");
            await RefusedAsync(() => alice.MuteParticipantAsync(bob.ParticipantId, "audio"), "forbidden:");
            await RefusedAsync(() => alice.MuteParticipantAsync(bob.ParticipantId, "video"), "forbidden:");
            await RefusedAsync(() => alice.RemoveParticipantAsync(bob.ParticipantId), "forbidden:");
            await RefusedAsync(() => alice.RemoveParticipantAsync(_room.Therapist.ParticipantId), "forbidden:");
            await RefusedAsync(() => alice.LockRoomAsync(true), "forbidden:");
            await RefusedAsync(() => alice.EndSessionAsync(), "forbidden:");
        });
        await Task.Delay(500); // any event a wrongly accepted call would have sent
        await AssertForegroundUnchangedAsync();
        // The room is not locked: a new patient still joins.
        var dave = await _kit.JoinAsync("dave", await _kit.Api.InviteAsync(_room.Id, "patient", "Dave"));
        await RoomTestKit.WaitReceivingAsync(dave, _room.Bob.ParticipantId);
    }

    [Fact]
    public async Task Oversized_hub_message_closes_only_that_connection()
    {
        var alice = _room.Alice;
        await WhileAnotherRoomFlowsAsync(async () =>
        {
            var huge = new string('a', 70 * 1024);
            await Assert.ThrowsAnyAsync<Exception>(() => alice.AddIceCandidateAsync(huge).WaitAsync(RoomTestKit.Generous));
            await alice.WaitForEventAsync<string>(ClientEvents.Reconnecting, null, RoomTestKit.Generous);
        });
        // Alice's client connects again and takes her place back (docs/signalling.md, "Reconnecting"); her media
        // connection was never closed. The others keep receiving each other and her, and are told nothing but that.
        await alice.WaitForEventAsync<JoinResultDto>(ClientEvents.Resumed, r => r.KeepMedia, RoomTestKit.Generous);
        var (therapist, bob) = (_room.Therapist, _room.Bob);
        await RoomTestKit.AssertKeepsReceivingAsync(therapist, bob.ParticipantId, "after the oversized message");
        await RoomTestKit.AssertKeepsReceivingAsync(bob, therapist.ParticipantId, "after the oversized message");
        await RoomTestKit.AssertKeepsReceivingAsync(therapist, alice.ParticipantId, "after the oversized message");
        Assert.False(therapist.Ended.IsCompleted);
        Assert.False(bob.Ended.IsCompleted);
        Assert.False(alice.Ended.IsCompleted);
        Assert.DoesNotContain(therapist.Events, e => e.Payload is ParticipantLeftInfo l && l.ParticipantId == alice.ParticipantId);
        Assert.Equal(5, _kit.Host.Media.PeerCount);
        Assert.Equal("connected", (await _kit.RegistryStatesAsync(_room.Id))[alice.ParticipantId]);
    }

    [Fact]
    public async Task Garbage_datagrams_at_the_media_port_are_dropped_while_both_rooms_run()
    {
        var droppedBefore = _kit.Host.Media.DroppedDatagrams;
        const int Burst = 5000;
        await WhileAnotherRoomFlowsAsync(async () =>
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            var target = new IPEndPoint(IPAddress.Loopback, _kit.Host.Media.UdpPort);
            var random = new Random(20261125);
            var buffer = new byte[1200];
            for (var i = 0; i < Burst; i++)
            {
                var length = random.Next(1, 600);
                random.NextBytes(buffer.AsSpan(0, length));
                // Every demultiplexing class (RFC 7983): STUN, DTLS, RTP/RTCP first bytes, and anything else.
                buffer[0] = (i % 4) switch { 0 => (byte)random.Next(0, 4), 1 => (byte)random.Next(20, 64), 2 => (byte)random.Next(128, 192), _ => buffer[0] };
                await socket.SendToAsync(buffer.AsMemory(0, length), SocketFlags.None, target);
                if (i % 500 == 0) await Task.Yield();
            }
        });
        Assert.True(await RoomTestKit.WaitUntilAsync(() => _kit.Host.Media.DroppedDatagrams - droppedBefore >= Burst / 2, RoomTestKit.Generous),
            $"dropped {_kit.Host.Media.DroppedDatagrams - droppedBefore} of {Burst}");
        Assert.Equal(5, _kit.Host.Media.PeerCount);
        await RoomTestKit.AssertKeepsReceivingAsync(_room.Therapist, _room.Alice.ParticipantId, "foreground after the burst");
        await RoomTestKit.AssertKeepsReceivingAsync(_room.Alice, _room.Bob.ParticipantId, "foreground after the burst");
        foreach (var client in new[] { _room.Therapist, _room.Alice, _room.Bob })
        {
            Assert.All(client.Received, s => Assert.Equal(0, s.Damaged));
            Assert.Equal(0, client.UnknownPacketsReceived);
        }
    }

    private static string Pad(string base64Url)
    {
        var s = base64Url.Replace('-', '+').Replace('_', '/');
        return s + new string('=', (4 - s.Length % 4) % 4);
    }
}
