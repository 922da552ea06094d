using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.DependencyInjection;
using TeleRehab.Media.Dtls;
using TeleRehab.Media.Hosting;
using TeleRehab.Media.Ice;
using TeleRehab.Media.Rooms;
using TeleRehab.Media.Sdp;
using TeleRehab.Media.Tests.Support;
using TeleRehab.Signaling;
using TeleRehab.Signaling.Limits;

namespace TeleRehab.Media.Tests.Rooms;

/// <summary>The media plane's caps on an offer (m-lines, publications by role, simulcast encodings) and the
/// retransmission memory budget, against a real room on a real worker: a refused offer changes nothing and tells nobody.</summary>
public sealed class OfferLimitsTests : IAsyncLifetime
{
    private static readonly Lazy<DtlsCertificate> ClientCertificate = new(() => DtlsCertificate.Generate());
    private static readonly Lazy<DtlsCertificate> ServerCertificate = new(() => DtlsCertificate.Generate());

    private static readonly long Video = PublishedStream.BufferBytes(video: true);
    private static readonly long Audio = PublishedStream.BufferBytes(video: false);

    private static readonly PublishLimits Patient = new(2, 3, "a patient");

    private readonly MediaServer _server = new(new MediaServerOptions
    {
        UdpPort = 0, TcpPort = -1, ListenAddress = "127.0.0.1", AnnouncedAddress = "127.0.0.1", Workers = 1,
    });

    public Task InitializeAsync()
    {
        _server.Start();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private sealed class Listener : IRoomListener
    {
        private int _tracksChanged;

        public int TracksChanged => Volatile.Read(ref _tracksChanged);

        public void OnTracksChanged(MediaRoom room, IReadOnlyList<TrackInfo> tracks) => Interlocked.Increment(ref _tracksChanged);
        public void OnParticipantQuality(MediaRoom room, string participantId, string quality) { }
        public void OnParticipantConnected(MediaRoom room, string participantId) { }
        public void OnParticipantDisconnected(MediaRoom room, string participantId, string reason, string? connectionTag) { }
        public void OnPublishedLayers(MediaRoom room, string participantId, string mid, IReadOnlyList<string> activeRids) { }
    }

    /// <summary>One offerer's identity: the same ICE credentials in every offer make them renegotiations of one connection.</summary>
    internal sealed class Offerer
    {
        private readonly IceCredentials _ice = IceCredentials.Generate();
        private ulong _version = 2;

        /// <summary>An offer sending <paramref name="audio"/> and <paramref name="video"/> tracks (mids a0.., v0..) and
        /// receiving on <paramref name="receive"/> sections (mids r0..).</summary>
        public SdpOffer Offer(int audio, int video, int receive = 0, SdpDirection send = SdpDirection.SendOnly, int firstVideo = 0)
        {
            var transceivers = new List<SdpTransceiver>();
            for (var i = 0; i < audio; i++)
                transceivers.Add(new SdpTransceiver("audio", $"a{i}", send) { LocalStream = new SdpLocalStream((uint)(1000 + i), "c", "s", $"audio{i}") });
            for (var i = firstVideo; i < firstVideo + video; i++)
                transceivers.Add(new SdpTransceiver("video", $"v{i}", send) { LocalStream = new SdpLocalStream((uint)(2000 + i), "c", "s", $"video{i}", (uint)(3000 + i)) });
            for (var i = 0; i < receive; i++) transceivers.Add(new SdpTransceiver(i % 2 == 0 ? "audio" : "video", $"r{i}", SdpDirection.RecvOnly));
            return new SdpOfferer(new SdpLocalParameters
            {
                IceUfrag = _ice.Ufrag,
                IcePwd = _ice.Password,
                Fingerprint = ClientCertificate.Value.SdpFingerprint,
                AcceptDataChannels = false,
                IceLite = false,
                Codecs = [SdpCodecCapability.Opus, SdpCodecCapability.Vp8],
                SessionVersion = _version++,
            }).CreateOffer(transceivers);
        }
    }

    /// <summary><paramref name="offer"/> with small sendonly video m-lines appended until it has <paramref name="total"/>
    /// (an attacker's offer: about 80 bytes an m-line, so 500 fit in a hub message).</summary>
    internal static string WithSections(string offer, int total)
    {
        var count = SessionDescription.Parse(offer).Media.Count;
        var text = new StringBuilder(offer);
        for (var i = count; i < total; i++)
            text.Append("m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:x").Append(i).Append("\r\na=sendonly\r\na=rtpmap:96 VP8/90000\r\n");
        return text.ToString();
    }

    private RoomManager Manager(long capacity = long.MaxValue / 2, long perParticipant = long.MaxValue / 2) =>
        new(_server, ServerCertificate.Value, new RetransmissionMemory(capacity, perParticipant));

    private static async Task<string> RefusedAsync(Task<NegotiationResult> negotiation)
    {
        var result = await negotiation;
        Assert.False(result.Succeeded, "the offer was accepted");
        return result.Error!;
    }

    private static async Task AcceptedAsync(Task<NegotiationResult> negotiation)
    {
        var result = await negotiation;
        Assert.True(result.Succeeded, result.Error);
    }

    private static async Task<string> StateAsync(MediaRoom room) =>
        string.Join("; ", (await room.GetDiagnosticsAsync()).OrderBy(d => d.Id, StringComparer.Ordinal));

    [Fact]
    public async Task Offer_with_500_m_lines_is_refused_before_anything_is_made()
    {
        var manager = Manager();
        var listener = new Listener();
        var room = manager.GetOrCreate("room", listener);
        var offer = WithSections(new Offerer().Offer(1, 1).Sdp, 500);
        Assert.True(Encoding.UTF8.GetByteCount(offer) < 64 * 1024);

        var error = await RefusedAsync(room.NegotiateAsync("mallory", Patient, offer, []));

        Assert.Equal("the offer has 500 m-lines; at most 64", error);
        Assert.Empty(await room.GetDiagnosticsAsync()); // no participant was made
        Assert.Empty(room.Tracks);
        Assert.Equal(0, listener.TracksChanged);
        Assert.Equal(0, manager.RetransmissionMemory.ReservedBytes);
        Assert.Equal(0, _server.PeerCount);
    }

    [Fact]
    public async Task Full_group_offer_fits_the_default_m_line_cap()
    {
        // 13 people publishing two tracks each: one's offer has its own 2 and 24 receive sections; a patient at the role
        // limit (5 tracks) among 12 others publishing two has 29.
        var manager = Manager();
        var room = manager.GetOrCreate("room", new Listener());
        await AcceptedAsync(room.NegotiateAsync("p1", Patient, new Offerer().Offer(1, 1, receive: 24).Sdp, []));
        await AcceptedAsync(room.NegotiateAsync("p2", Patient, new Offerer().Offer(2, 3, receive: 24).Sdp, []));
        Assert.Equal(RoomManager.DefaultMaxMediaSections, manager.MaxMediaSections);
        Assert.Equal(64, new LimitsOptions().MaxMediaSections);
    }

    [Fact]
    public async Task Patient_offering_four_videos_is_refused_and_keeps_what_it_had()
    {
        var manager = Manager();
        var listener = new Listener();
        var room = manager.GetOrCreate("room", listener);
        var alice = new Offerer();
        var bob = new Offerer();
        await AcceptedAsync(room.NegotiateAsync("alice", Patient, alice.Offer(1, 1).Sdp, [], "alice-connection"));
        await AcceptedAsync(room.NegotiateAsync("bob", Patient, bob.Offer(1, 1, receive: 2).Sdp,
            [new SubscriptionRequest("r0", room.Tracks.Single(t => t.Kind == "audio").TrackId), new SubscriptionRequest("r1", room.Tracks.Single(t => t.Kind == "video").TrackId)]));
        var tracks = room.Tracks;
        var state = await StateAsync(room);
        var changes = listener.TracksChanged;
        var reserved = manager.RetransmissionMemory.ReservedBytes;
        Assert.Equal(2 * (Audio + Video), reserved);
        Assert.Contains("Subscriptions = 2", state);

        // A renegotiation of alice's connection with four videos; a new connection of bob's with five; too many audio.
        Assert.Equal("a patient may publish at most 3 video tracks; the offer sends 4",
            await RefusedAsync(room.NegotiateAsync("alice", Patient, alice.Offer(1, 4).Sdp, [], "other")));
        Assert.Equal("a patient may publish at most 3 video tracks; the offer sends 5",
            await RefusedAsync(room.NegotiateAsync("bob", Patient, new Offerer().Offer(1, 5).Sdp, [])));
        Assert.Equal("a patient may publish at most 2 audio tracks; the offer sends 3",
            await RefusedAsync(room.NegotiateAsync("alice", Patient, alice.Offer(3, 1, send: SdpDirection.SendRecv).Sdp, [])));
        Assert.Equal("a therapist may publish at most 1 video track; the offer sends 2",
            await RefusedAsync(room.NegotiateAsync("alice", new PublishLimits(1, 1, "a therapist"), alice.Offer(1, 2).Sdp, [])));

        Assert.Same(tracks, room.Tracks);
        Assert.Equal(state, await StateAsync(room));
        Assert.Equal(changes, listener.TracksChanged);
        Assert.Equal(reserved, manager.RetransmissionMemory.ReservedBytes);

        // Within the limits: accepted on the same connection (three videos, two audio).
        await AcceptedAsync(room.NegotiateAsync("alice", Patient, alice.Offer(2, 3).Sdp, []));
        Assert.Equal(7, room.Tracks.Count);
        Assert.Equal(changes + 1, listener.TracksChanged);
        Assert.Equal(3 * Audio + 4 * Video, manager.RetransmissionMemory.ReservedBytes);
    }

    [Fact]
    public async Task Observer_send_sections_are_answered_without_being_published()
    {
        var manager = Manager();
        var listener = new Listener();
        var room = manager.GetOrCreate("room", listener);
        await AcceptedAsync(room.NegotiateAsync("observer", PublishLimits.None, new Offerer().Offer(1, 4).Sdp, []));
        Assert.Empty(room.Tracks);
        Assert.Equal(0, listener.TracksChanged);
        Assert.Equal(0, manager.RetransmissionMemory.ReservedBytes);
        // The m-line cap holds for observers too.
        Assert.Contains("200 m-lines", await RefusedAsync(room.NegotiateAsync("observer2", PublishLimits.None, WithSections(new Offerer().Offer(0, 0, receive: 2).Sdp, 200), [])));
    }

    [Fact]
    public async Task Simulcast_beyond_three_encodings_is_refused_and_three_reserve_three_buffers()
    {
        var manager = Manager();
        var room = manager.GetOrCreate("room", new Listener());
        var offerer = new Offerer();

        SdpOffer Simulcast(int encodings)
        {
            var offer = offerer.Offer(0, 1);
            var video = offer.Description.Media.Single(m => m.Kind == "video");
            var rids = Enumerable.Range(0, encodings).Select(i => $"q{i}").ToList();
            foreach (var rid in rids) video.AddAttribute("rid", $"{rid} send");
            video.AddAttribute("simulcast", "send " + string.Join(';', rids));
            return offer;
        }

        Assert.Equal("m-line 'v0' sends 4 simulcast encodings; at most 3", await RefusedAsync(room.NegotiateAsync("p", Patient, Simulcast(4).Sdp, [])));
        Assert.Equal(0, manager.RetransmissionMemory.ReservedBytes);
        var answer = await room.NegotiateAsync("p", Patient, Simulcast(3).Sdp, []);
        Assert.True(answer.Succeeded, answer.Error);
        Assert.Contains("a=simulcast:recv", answer.AnswerSdp);
        Assert.Equal(3 * Video, manager.RetransmissionMemory.ReservedBytes);
    }

    [Fact]
    public async Task Retransmission_budget_refuses_when_full_and_is_back_to_zero_once_everyone_left()
    {
        // Room for three videos and three audio server-wide; two videos and two audio a participant.
        var manager = Manager(capacity: 3 * (Video + Audio), perParticipant: 2 * (Video + Audio));
        var memory = manager.RetransmissionMemory;
        var listener = new Listener();
        var room = manager.GetOrCreate("room", listener);
        var (alice, bob, carol) = (new Offerer(), new Offerer(), new Offerer());

        var error = await RefusedAsync(room.NegotiateAsync("alice", Patient, alice.Offer(1, 3).Sdp, []));
        Assert.StartsWith("this participant's retransmission memory would be", error);
        Assert.Equal(0, memory.ReservedBytes);
        Assert.Equal(0, _server.PeerCount); // refused before the peer was made

        await AcceptedAsync(room.NegotiateAsync("alice", Patient, alice.Offer(1, 2).Sdp, []));
        await AcceptedAsync(room.NegotiateAsync("bob", Patient, bob.Offer(1, 1).Sdp, []));
        Assert.Equal(3 * (Video + Audio) - Audio, memory.ReservedBytes);
        var changes = listener.TracksChanged;
        var state = await StateAsync(room);

        Assert.Equal("the server's retransmission memory is full; publish fewer tracks or try again later",
            await RefusedAsync(room.NegotiateAsync("carol", Patient, carol.Offer(0, 1).Sdp, [])));
        // Bob's renegotiation that would grow past the budget leaves bob as he was.
        Assert.StartsWith("the server's retransmission memory is full", await RefusedAsync(room.NegotiateAsync("bob", Patient, bob.Offer(1, 2).Sdp, [])));
        Assert.Equal(changes, listener.TracksChanged);
        Assert.Equal(3 * (Video + Audio) - Audio, memory.ReservedBytes);

        // Unpublishing in a renegotiation gives memory back, and then carol fits.
        await AcceptedAsync(room.NegotiateAsync("bob", Patient, bob.Offer(1, 0).Sdp, []));
        Assert.Equal(2 * Video + 2 * Audio, memory.ReservedBytes);
        await AcceptedAsync(room.NegotiateAsync("carol", Patient, carol.Offer(0, 1).Sdp, []));
        Assert.Equal(3 * Video + 2 * Audio, memory.ReservedBytes);
        Assert.NotEqual(state, await StateAsync(room));
        // With the server full, swapping a track (v0 unpublished, v1 published) is not refused: what the offer drops
        // counts against what it adds.
        var before = room.Tracks.Count;
        await AcceptedAsync(room.NegotiateAsync("carol", Patient, carol.Offer(0, 1, firstVideo: 1).Sdp, []));
        Assert.Equal(3 * Video + 2 * Audio, memory.ReservedBytes);
        Assert.Equal(before, room.Tracks.Count);
        Assert.Contains(room.Tracks, t => t.TrackId.StartsWith("carol-video-v1-", StringComparison.Ordinal));

        // Every way publications end gives their memory back: leaving, the room closing.
        await room.RemoveParticipantAsync("alice", "left");
        Assert.Equal(Video + Audio, memory.ReservedBytes);
        await AcceptedAsync(room.NegotiateAsync("dave", Patient, new Offerer().Offer(1, 1).Sdp, []));
        await room.CloseAsync("everyone left");
        Assert.Equal(0, memory.ReservedBytes);
        Assert.Equal(0, manager.RoomCount);
    }

    [Fact]
    public async Task Replaced_connection_gives_back_its_memory()
    {
        var manager = Manager();
        var room = manager.GetOrCreate("room", new Listener());
        await AcceptedAsync(room.NegotiateAsync("alice", Patient, new Offerer().Offer(1, 1).Sdp, []));
        // The same participant from a new connection (a reload): the old one's publications go, the new ones are reserved.
        await AcceptedAsync(room.NegotiateAsync("alice", Patient, new Offerer().Offer(1, 2).Sdp, []));
        Assert.Equal(Audio + 2 * Video, manager.RetransmissionMemory.ReservedBytes);
        await room.RemoveParticipantAsync("alice", "left");
        Assert.Equal(0, manager.RetransmissionMemory.ReservedBytes);
    }

    [Fact]
    public void Budget_is_exact_under_contention()
    {
        var memory = new RetransmissionMemory(1000, 100);
        Assert.Equal(RetransmissionReservation.ParticipantFull, memory.TryReserve(60, participantBytes: 50));
        Assert.Equal(RetransmissionReservation.Reserved, memory.TryReserve(60, participantBytes: 50, releasingBytes: 10));
        memory.Release(60);
        var granted = 0;
        Parallel.For(0, 4000, new ParallelOptions { MaxDegreeOfParallelism = 4 }, _ =>
        {
            if (memory.TryReserve(7) == RetransmissionReservation.Reserved) Interlocked.Increment(ref granted);
        });
        Assert.Equal(1000 / 7, granted);
        Assert.Equal(granted * 7L, memory.ReservedBytes);
        Assert.Equal(RetransmissionReservation.ServerFull, memory.TryReserve(7));
        Parallel.For(0, granted, _ => memory.Release(7));
        Assert.Equal(0, memory.ReservedBytes);
        Assert.Equal(RetransmissionReservation.Reserved, memory.TryReserve(0, participantBytes: 500));
    }

    [Theory]
    [InlineData("MaxMediaSections", "0")]
    [InlineData("PatientVideoTracks", "-1")]
    [InlineData("TherapistAudioTracks", "-1")]
    [InlineData("RetransmissionMemoryMB", "0")]
    [InlineData("RetransmissionMemoryPerParticipantMB", "0")]
    public async Task Invalid_limit_stops_start_up_naming_the_key(string key, string value)
    {
        WebApplication? app = null;
        var exception = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            app = TeleRehabApp.Create([
            "--urls=http://127.0.0.1:0",
            "--TeleRehab:Media:UdpPort=0",
            "--TeleRehab:Media:TcpPort=-1",
            "--TeleRehab:Media:ListenAddress=127.0.0.1",
            "--Logging:LogLevel:Default=None",
            $"--TeleRehab:Limits:{key}={value}",
            ]);
            await app.StartAsync();
        });
        try
        {
            var messages = new List<string>();
            for (Exception? e = exception; e is not null; e = e.InnerException) messages.Add(e.Message);
            if (exception is AggregateException aggregate) messages.AddRange(aggregate.InnerExceptions.Select(e => e.Message));
            Assert.Contains($"TeleRehab:Limits:{key}", string.Join(" | ", messages));
        }
        finally
        {
            if (app is not null)
            {
                try { await app.StopAsync(); } catch (Exception) { }
                await app.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Configured_limits_reach_the_room_manager()
    {
        await using var host = await AppHost.StartAsync(
            ("TeleRehab:Limits:MaxMediaSections", "10"),
            ("TeleRehab:Limits:RetransmissionMemoryMB", "100"),
            ("TeleRehab:Limits:RetransmissionMemoryPerParticipantMB", "5"));
        var rooms = host.Services.GetRequiredService<RoomManager>();
        Assert.Equal(10, rooms.MaxMediaSections);
        Assert.Equal(100 * RetransmissionMemory.Megabyte, rooms.RetransmissionMemory.CapacityBytes);
        Assert.Equal(5 * RetransmissionMemory.Megabyte, rooms.RetransmissionMemory.PerParticipantBytes);
        Assert.Equal(0, rooms.RetransmissionMemory.ReservedBytes);
    }

    [Fact]
    public void Limits_defaults_and_validation()
    {
        var defaults = new LimitsOptions();
        defaults.Validate();
        Assert.Equal((64, 2, 3, 2, 3, 16, 1024), (defaults.MaxMediaSections, defaults.PatientAudioTracks, defaults.PatientVideoTracks,
            defaults.TherapistAudioTracks, defaults.TherapistVideoTracks, defaults.RetransmissionMemoryPerParticipantMB, defaults.RetransmissionMemoryMB));
        Assert.Equal(RetransmissionMemory.DefaultCapacityMB, defaults.RetransmissionMemoryMB);
        Assert.Equal(RetransmissionMemory.DefaultPerParticipantMB, defaults.RetransmissionMemoryPerParticipantMB);
        // The default per-participant budget holds the largest publisher the default role limits allow.
        Assert.True(defaults.PatientAudioTracks * Audio + defaults.PatientVideoTracks * 3 * Video <= defaults.RetransmissionMemoryPerParticipantMB * RetransmissionMemory.Megabyte);
        var error = Assert.Throws<ArgumentException>(() => new LimitsOptions { RetransmissionMemoryPerParticipantMB = 2048 }.Validate());
        Assert.Contains("TeleRehab:Limits:RetransmissionMemoryPerParticipantMB", error.Message);
    }
}
