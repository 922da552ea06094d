using System.Buffers.Binary;
using TeleRehab.Media.Bwe;
using TeleRehab.Media.Dtls;
using TeleRehab.Media.Hosting;
using TeleRehab.Media.Ice;
using TeleRehab.Media.Net;
using TeleRehab.Media.Rtcp;
using TeleRehab.Media.Rtp;
using TeleRehab.Media.Sctp;
using TeleRehab.Media.Sdp;
using TeleRehab.Media.Sfu;
using TeleRehab.Media.WebRtc;

namespace TeleRehab.Media.Rooms;

/// <summary>A participant's media: one peer connection that both publishes (its send sections become
/// <see cref="Publication"/>s) and subscribes (its receive sections carry <see cref="Subscription"/>s). RTCP is
/// terminated per leg: NACKs are answered from the publication's buffer, keyframe requests are relayed upstream
/// with a throttle, and the SFU sends its own NACKs and receiver reports to publishers. Runs on the room's worker.</summary>
internal sealed class RoomParticipant : IMediaPeer, IPeerConnectionHandler, IEgressTransport, IDataChannelHandler
{
    private static readonly TimeSpan ReportInterval = TimeSpan.FromSeconds(1);
    private const int MaxNacksPerPacket = 64;

    private readonly MediaRoom _room;
    /// <summary>The ICE credentials of this participant's answers; an ICE restart gives new ones (read from any thread
    /// through <see cref="LocalUfrag"/>).</summary>
    private volatile IceCredentials _ice = IceCredentials.Generate();
    private readonly Dictionary<string, Publication> _publicationsByMid = new(StringComparer.Ordinal);
    private readonly Dictionary<uint, PublishedStream> _streamsBySsrc = [];
    private readonly List<Publication> _publications = [];
    private readonly Dictionary<string, Subscription> _subscriptionsByMid = new(StringComparer.Ordinal);
    private readonly Dictionary<uint, Subscription> _subscriptionsBySsrc = [];
    private readonly byte[] _rtcpBuffer = new byte[1500];
    private readonly uint _rtcpSsrc = (uint)Random.Shared.NextInt64(1, uint.MaxValue);
    private PeerConnection? _connection;
    private string? _remoteUfrag;
    private string? _remoteIcePwd;
    private string? _remoteFingerprint;
    private int _midExtensionId = -1;
    private int _ridExtensionId = -1;
    private int _repairedRidExtensionId = -1;
    private TimeSpan _nextAllocation;
    private TimeSpan _nextLayerCheck;
    private int _transportSequenceExtensionId = -1;
    private readonly TransportFeedbackRecorder _transportFeedback;
    private int _publicationSequence;
    private int _forwardSample;
    private TimeSpan _nextReport;
    private bool _closed;
    private long _retransmissionBytes;
    private PoseParticipant? _pose;
    private PoseChannel? _poseChannel;
    private PoseInterest _poseInterest;

    public RoomParticipant(MediaRoom room, string id)
    {
        _room = room;
        Id = id;
        _transportFeedback = new TransportFeedbackRecorder(_rtcpSsrc);
        Egress = new SubscriberEgress(this);
    }

    /// <summary>This participant's leg as a receiver: the one place every packet the SFU sends it passes (transport-wide
    /// numbering, the leg's bandwidth estimate, pacing, probes).</summary>
    public SubscriberEgress Egress { get; }

    public string Id { get; }

    /// <summary>This participant's leg round trip, from its reports about the SFU's streams (RFC 3550 §6.4.1).</summary>
    public RoundTripTime RoundTrip { get; } = new();

    /// <summary>The control-plane connection that last negotiated this participant's media (see <see cref="MediaRoom.NegotiateAsync"/>).</summary>
    public string? ConnectionTag { get; set; }

    /// <summary>The buffer a subscription copies a forwarded packet into (worker-thread only; room for SRTP's tag).</summary>
    public byte[] ForwardBuffer { get; } = new byte[2048];

    public IReadOnlyList<Publication> Publications => _publications;

    /// <summary>The retransmission memory this participant's publications hold in the server's budget.</summary>
    public long RetransmissionBytes => _retransmissionBytes;

    public PeerConnectionState ConnectionState => _connection?.State ?? PeerConnectionState.New;

    /// <summary>The SCTP side of the participant's data channel, once an offer with one was answered.</summary>
    public DataChannelTransport? DataChannels => _connection?.DataChannels;

    public string LocalUfrag => _ice.Ufrag;

    public bool IsAuthenticCheck(ReadOnlySpan<byte> request) => _connection is { } connection && connection.IsAuthenticCheck(request);

    public bool IsClosed => _closed;

    /// <summary>Set when the room closes this participant on the control plane's request (leave, removal, a newer
    /// connection with the same link): its end is then not reported back as a lost connection.</summary>
    public bool ClosedByControlPlane { get; set; }

    /// <summary>True once a newer connection of the same participant took this one's place.</summary>
    public bool IsReplaced { get; private set; }

    /// <summary>Whether <paramref name="offer"/> comes from a different RTCPeerConnection than this one (another
    /// DTLS certificate fingerprint), or this one has closed. A new ICE ufrag with the same fingerprint is the same
    /// connection restarting ICE (RFC 8445 §9), which <see cref="Negotiate"/> takes on this connection.</summary>
    public bool IsNewConnection(SessionDescription offer)
    {
        if (_closed) return true;
        if (_remoteFingerprint is null) return false;
        var fingerprint = offer.Fingerprint ?? offer.Media.Select(m => m.Fingerprint).FirstOrDefault(f => f is not null);
        return fingerprint is { } f && !string.Equals($"{f.Algorithm} {f.Value}", _remoteFingerprint, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Ends this connection because a newer one of the same participant replaces it (no "left" report).</summary>
    public void Replace()
    {
        IsReplaced = true;
        ClosedByControlPlane = true;
        Close("replaced by a new connection");
    }

    public Publication? FindPublication(string trackId)
    {
        foreach (var publication in _publications)
        {
            if (publication.Info.TrackId == trackId) return publication;
        }
        return null;
    }

    internal ParticipantDiagnostics Diagnose() => new(
        Id,
        ConnectionState.ToString(),
        _publications.Count,
        _streamsBySsrc.Count,
        _publications.Sum(p => p.Subscribers.Count),
        _publications.Sum(p => p.Subscribers.Count(s => s.Subscriber.IsClosed)),
        _subscriptionsByMid.Count,
        _subscriptionsBySsrc.Count,
        _subscriptionsByMid.Values.Count(s => s.Publication.Publisher.IsClosed));

    internal LegStats GetLegStats() => GetLegStats(BudgetRanks());

    private LegStats GetLegStats(Dictionary<Subscription, int> ranks) => new(
        Id,
        Egress.Estimator.FeedbacksReceived > 0 ? Egress.EstimateBps : 0,
        Egress.Estimator.FeedbacksReceived,
        RoundTrip.Smoothed,
        Egress.Pacer.PacketsQueued,
        Egress.Pacer.LongestWait,
        Egress.Pacer.TotalWait,
        Egress.ProbePacketsSent,
        _subscriptionsByMid.Values.Select(s => s.GetStats(ranks.GetValueOrDefault(s, -1))).ToList(),
        $"delay {Egress.Estimator.DelayBasedBitrate / 1000} loss {(Egress.Estimator.LossBasedBitrate == long.MaxValue ? -1 : Egress.Estimator.LossBasedBitrate / 1000)} " +
        $"acked {Egress.Estimator.AcknowledgedBitrate / 1000} kbit/s, loss {Egress.Estimator.LossFraction:P1} (inherent {Egress.Estimator.InherentLossFraction:P1}), " +
        $"unstampable {Egress.Unstampable}, sent {Egress.PacketsSent}, {Egress.Estimator.State}, overuses {Egress.Estimator.OveruseSignals}, probes {Egress.Estimator.ProbesSucceeded}/{Egress.Estimator.ProbesSent} last {Egress.Estimator.LastProbeResult / 1000}, " +
        $"alr {Egress.Estimator.ApplicationLimited}, deep cut {DescribeCut(Egress.Estimator.DeepCut)}, drop probes {Egress.Estimator.DropProbes}",
        _uplinkMode?.Describe() ?? "");

    private static string DescribeCut((long From, long To, char Cause, long Acked, bool Alr, TimeSpan At) cut) =>
        cut.From == 0 ? "none" : $"{cut.From / 1000}->{cut.To / 1000} ({cut.Cause}, acked {cut.Acked / 1000}{(cut.Alr ? ", alr" : "")}) at {cut.At.TotalSeconds:0.0} s";

    // ------------------------------------------------------------------ negotiation (cold path)

    /// <summary>
    /// Cheap checks of an offer before anything of it is answered, allocated or applied: at most
    /// <paramref name="maxMediaSections"/> m-lines; at most <paramref name="limits"/>' audio and video send sections
    /// (<c>sendonly</c>/<c>sendrecv</c>, not rejected; ignored for a participant that publishes nothing, whose send
    /// sections are answered without being published); at most <see cref="LayerRates.MaxSpatialLayers"/> simulcast
    /// encodings per video send section. Returns why the offer is refused, or null.
    /// </summary>
    internal static string? CheckOffer(SessionDescription offer, PublishLimits limits, int maxMediaSections)
    {
        if (offer.Media.Count > maxMediaSections)
            return $"the offer has {offer.Media.Count} m-lines; at most {maxMediaSections}";
        if (!limits.CanPublish) return null;
        int audio = 0, video = 0;
        foreach (var media in offer.Media)
        {
            if (media.IsRejected || media.Kind is not ("audio" or "video")) continue;
            if (offer.GetDirection(media) is not (SdpDirection.SendOnly or SdpDirection.SendRecv)) continue;
            if (media.Kind == "audio")
            {
                audio++;
                continue;
            }
            video++;
            if (media.Simulcast is { } simulcast && simulcast.Send.Count > LayerRates.MaxSpatialLayers)
                return $"m-line '{media.Mid}' sends {simulcast.Send.Count} simulcast encodings; at most {LayerRates.MaxSpatialLayers}";
        }
        if (audio > limits.Audio) return $"{limits.Who} may publish at most {Tracks(limits.Audio, "audio")}; the offer sends {audio}";
        if (video > limits.Video) return $"{limits.Who} may publish at most {Tracks(limits.Video, "video")}; the offer sends {video}";
        return null;

        static string Tracks(int count, string kind) => count == 1 ? $"1 {kind} track" : $"{count} {kind} tracks";
    }

    public NegotiationResult Negotiate(SessionDescription offer, IReadOnlyList<SubscriptionRequest> requests, PublishLimits limits)
    {
        if (_closed) return NegotiationResult.Fail("this participant's media connection has closed; join again");
        if (CheckOffer(offer, limits, _room.Manager.MaxMediaSections) is { } refusal) return NegotiationResult.Fail(refusal);
        string? error;

        var requested = new Dictionary<string, string>(StringComparer.Ordinal);
        var priorities = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var request in requests)
        {
            if (string.IsNullOrEmpty(request.Mid) || string.IsNullOrEmpty(request.TrackId))
                return NegotiationResult.Fail("every subscription needs a mid and a trackId");
            priorities[request.Mid] = request.Priority;
            if (!requested.TryAdd(request.Mid, request.TrackId))
                return NegotiationResult.Fail($"mid '{request.Mid}' is listed twice in subscriptions");
        }

        // Plan the subscriptions: the server's stream on each requested receive section (same SSRC as before on renegotiation).
        var streams = new Dictionary<string, SdpLocalStream>(StringComparer.Ordinal);
        var planned = new Dictionary<string, Publication>(StringComparer.Ordinal);
        foreach (var media in offer!.Media)
        {
            if (media.Mid is not { } mid || !requested.TryGetValue(mid, out var trackId)) continue;
            var publication = _room.FindPublication(trackId);
            if (publication is null || ReferenceEquals(publication.Publisher, this) || publication.Kind != media.Kind) continue;
            planned[mid] = publication;
            var existing = _subscriptionsByMid.GetValueOrDefault(mid);
            var reuse = existing is not null && ReferenceEquals(existing.Publication, publication);
            var ssrc = reuse ? existing!.OutgoingSsrc : RandomSsrc();
            streams[mid] = new SdpLocalStream(ssrc, "telerehab-sfu", publication.Publisher.Id, publication.Info.TrackId,
                media.Kind == "video" ? (reuse ? existing!.RtxSsrc : RandomSsrc()) : null);
        }

        SdpLocalParameters Local(IceCredentials ice) => new()
        {
            IceUfrag = ice.Ufrag,
            IcePwd = ice.Password,
            Fingerprint = _room.Manager.PeerOptions.Certificate.SdpFingerprint,
            Candidates = _room.Manager.Server.LocalCandidates().Select(c => c.ToString()).ToList(),
            LocalStreams = streams,
            AcceptDataChannels = true,
            MaxMessageSize = _room.Manager.Server.Options.DataChannelMaxMessageSize,
            AudioPacketTime = _room.Voices switch { VoiceRung.Weak => WeakAudioPacketTime, VoiceRung.Starved => StarvedAudioPacketTime, _ => null },
            // RED (RFC 2198) from the pages, except in a weak spell: it doubles the voice on the uplink, and on EDGE it
            // took the patient's uplink past 40 kbit/s (docs/weak-links.md). Received RED is forwarded as the receiver's
            // loss warrants (Sfu/RedForwarding), so it is always accepted for the downlink.
            AudioRedundancy = _room.WeakAudio ? SdpAudioRedundancy.Accepted : SdpAudioRedundancy.Preferred,
        };
        if (!new SdpAnswerer(Local(_ice)).TryCreateAnswer(offer, out var answer, out error)) return NegotiationResult.Fail($"cannot answer the offer: {error}");
        var session = answer!.Session;
        var fingerprint = $"{session.RemoteFingerprint.Algorithm} {session.RemoteFingerprint.Value}";

        DtlsFingerprint? remoteFingerprint = null;
        IceCredentials? remoteIce = null;
        if (_connection is null)
        {
            if (!DtlsFingerprint.TryParse(fingerprint, out remoteFingerprint))
                return NegotiationResult.Fail("the offer's a=fingerprint is not a usable certificate fingerprint");
            try
            {
                remoteIce = new IceCredentials(session.RemoteIceUfrag, session.RemoteIcePwd);
            }
            catch (ArgumentException ex)
            {
                return NegotiationResult.Fail($"bad ICE credentials in the offer: {ex.Message}");
            }
        }
        else if (!string.Equals(fingerprint, _remoteFingerprint, StringComparison.OrdinalIgnoreCase)
                 || (session.LocalSetup == SdpSetupRole.Active ? DtlsRole.Client : DtlsRole.Server) != _connection.DtlsRole)
        {
            return NegotiationResult.Fail("a certificate or DTLS role change needs a new connection: leave and join again");
        }
        else if (session.RemoteIceUfrag != _remoteUfrag || session.RemoteIcePwd != _remoteIcePwd)
        {
            // An ICE restart (RFC 8445 §9) on the same connection: DTLS and SRTP stay (JSEP, RFC 8829 §5.3.1).
            try
            {
                remoteIce = new IceCredentials(session.RemoteIceUfrag, session.RemoteIcePwd);
            }
            catch (ArgumentException ex)
            {
                return NegotiationResult.Fail($"bad ICE credentials in the offer: {ex.Message}");
            }
        }

        // The answer to a restart has new local credentials too (RFC 8829 §5.3.1 and §5.2.1, RFC 8445 §9), generated as
        // the first ones (RFC 8445 §5.3) and reachable by their ufrag before the peer can check with them.
        IceCredentials? restartLocal = null;
        if (_connection is not null && remoteIce is not null)
        {
            restartLocal = ReserveRestartCredentials();
            if (restartLocal is null) return NegotiationResult.Fail("the media connection is closing; join again");
            if (!new SdpAnswerer(Local(restartLocal)).TryCreateAnswer(offer, out answer, out error))
            {
                _room.Manager.Server.RemoveUfrag(this, restartLocal.Ufrag);
                return NegotiationResult.Fail($"cannot answer the offer: {error}");
            }
            session = answer!.Session;
        }

        // The publications' retransmission buffers are reserved before any is allocated (the last refusal).
        var reservations = PlanRetransmissionMemory(session, limits.CanPublish, out var growing, out var releasing);
        var memory = _room.Manager.RetransmissionMemory;
        var reserved = memory.TryReserve(growing, _retransmissionBytes, releasing);
        if (reserved != RetransmissionReservation.Reserved && restartLocal is not null)
            _room.Manager.Server.RemoveUfrag(this, restartLocal.Ufrag); // a refusal changes nothing
        switch (reserved)
        {
            case RetransmissionReservation.ParticipantFull:
                return NegotiationResult.Fail($"this participant's retransmission memory would be {RetransmissionMemory.ToMB(_retransmissionBytes - releasing + growing)} MB " +
                                              $"with this offer; at most {RetransmissionMemory.ToMB(memory.PerParticipantBytes)} MB");
            case RetransmissionReservation.ServerFull:
                return NegotiationResult.Fail("the server's retransmission memory is full; publish fewer tracks or try again later");
        }
        _retransmissionBytes += growing;

        if (_connection is null)
        {
            var dtlsRole = session.LocalSetup == SdpSetupRole.Active ? DtlsRole.Client : DtlsRole.Server;
            _connection = PeerConnection.CreateIceLite(_ice, remoteIce!, remoteFingerprint!, dtlsRole, _room.Manager.PeerOptions, this, action => _room.Worker.PostFor(this, action));
            _connection.Start(_room.Worker.Now);
            _remoteUfrag = session.RemoteIceUfrag;
            _remoteIcePwd = session.RemoteIcePwd;
            _remoteFingerprint = fingerprint;
            _room.Manager.Server.Register(this, _room.Worker);
        }
        else if (restartLocal is not null)
        {
            // An earlier restart whose credentials no check used yet: the agent drops them now (the pair before it is
            // still the one in use), so their ufrag goes too; otherwise the current ufrag stays until the new
            // credentials are used (OnIceCredentialsRetired).
            var unused = _connection.RetiringIceCredentials is not null ? _ice : null;
            if (_connection.RestartIce(remoteIce!, restartLocal))
            {
                _remoteUfrag = remoteIce!.Ufrag;
                _remoteIcePwd = remoteIce.Password;
                _ice = restartLocal;
                if (unused is not null) _room.Manager.Server.RemoveUfrag(this, unused.Ufrag);
            }
            else
            {
                _room.Manager.Server.RemoveUfrag(this, restartLocal.Ufrag);
            }
        }

        if (_connection.ApplyDataChannels(session) is { } dataChannels)
        {
            dataChannels.Policy ??= RoomDataChannels.Accept;
            dataChannels.Handler ??= this;
        }
        ApplyPublications(session, limits.CanPublish, reservations);
        ApplySubscriptions(session, planned, priorities);
        var poseRole = limits.CanPublish ? limits.Pose : PoseRole.Viewer;
        if (_pose is null) _pose = _room.Pose.Add(Id, poseRole, _poseInterest);
        else _room.Pose.SetRole(_pose, poseRole);
        // A participant that can send its movement instead of video gets the ladder's last rungs on its uplink.
        if (poseRole == PoseRole.Sender) _uplinkMode ??= new UplinkModeDecider(_room.Manager.UplinkMode);
        return new NegotiationResult(answer.Sdp, null);
    }

    /// <summary>Whether a negotiated section is one of this participant's publications (the server receives on it).</summary>
    private static bool IsPublished(NegotiatedMedia media) =>
        !media.IsRejected && media.Kind is "audio" or "video" && media.Direction is SdpDirection.RecvOnly or SdpDirection.SendRecv;

    /// <summary>The retransmission memory each publication will hold once <paramref name="session"/> is applied (by
    /// mid), the bytes to reserve beyond what they hold now, and the bytes of the publications it drops. A publication's
    /// streams are those <see cref="Publication.Update"/> makes: one per simulcast encoding (they are never removed), or
    /// one.</summary>
    private Dictionary<string, long> PlanRetransmissionMemory(NegotiatedSession session, bool canPublish, out long growing, out long releasing)
    {
        var reservations = new Dictionary<string, long>(StringComparer.Ordinal);
        growing = 0;
        releasing = 0;
        if (canPublish)
        {
            foreach (var media in session.Media)
            {
                if (!IsPublished(media)) continue;
                var existing = _publicationsByMid.GetValueOrDefault(media.Mid);
                var video = (existing?.Kind ?? media.Kind) == "video";
                var streams = 1;
                if (video && media.ReceiveRids.Count > 1)
                {
                    streams = 0;
                    foreach (var rid in media.ReceiveRids) streams = Math.Max(streams, media.GetSimulcastStreamIndex(rid) + 1);
                }
                var held = existing?.RetransmissionBytes ?? 0;
                var bytes = Math.Max(held, Math.Max(streams, existing?.Streams.Count ?? 0) * PublishedStream.BufferBytes(video));
                reservations[media.Mid] = bytes;
                growing += bytes - held;
            }
        }
        foreach (var publication in _publications)
        {
            if (!reservations.ContainsKey(publication.Mid)) releasing += publication.RetransmissionBytes;
        }
        return reservations;
    }

    private void ApplyPublications(NegotiatedSession session, bool canPublish, Dictionary<string, long> reservations)
    {
        var changed = false;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        _midExtensionId = -1;
        _ridExtensionId = -1;
        _repairedRidExtensionId = -1;
        _transportSequenceExtensionId = -1;
        foreach (var media in session.Media)
        {
            if (media.FindExtensionId(SdpHeaderExtensionCapability.Mid) is { } midId) _midExtensionId = midId;
            if (media.FindExtensionId(SdpHeaderExtensionCapability.RtpStreamId) is { } ridId) _ridExtensionId = ridId;
            if (media.FindExtensionId(SdpHeaderExtensionCapability.RepairedRtpStreamId) is { } rridId) _repairedRidExtensionId = rridId;
            if (media.FindExtensionId(SdpHeaderExtensionCapability.TransportWideCc) is { } twccId) _transportSequenceExtensionId = twccId;
            Egress.TransportSequenceExtensionId = _transportSequenceExtensionId;
            if (!canPublish || !IsPublished(media)) continue;
            seen.Add(media.Mid);
            if (!_publicationsByMid.TryGetValue(media.Mid, out var publication))
            {
                publication = new Publication(this, media.Mid, media.Kind, ++_publicationSequence);
                _publicationsByMid[media.Mid] = publication;
                _publications.Add(publication);
                changed = true;
            }
            publication.RetransmissionBytes = reservations[media.Mid];
            publication.Update(media);
            foreach (var stream in publication.Streams)
            {
                if (stream.Ssrc is { } ssrc) _streamsBySsrc[ssrc] = stream;
                if (stream.RtxSsrc is { } rtxSsrc) _streamsBySsrc[rtxSsrc] = stream;
            }
        }
        foreach (var publication in _publications.Where(p => !seen.Contains(p.Mid)).ToList())
        {
            Unpublish(publication);
            changed = true;
        }
        if (changed) _room.PublicationsChanged();
    }

    private void Unpublish(Publication publication)
    {
        // Every way a publication ends (renegotiated away, the participant leaving, the room closing) passes here.
        _room.Manager.RetransmissionMemory.Release(publication.RetransmissionBytes);
        _retransmissionBytes -= publication.RetransmissionBytes;
        publication.RetransmissionBytes = 0;
        _publications.Remove(publication);
        _publicationsByMid.Remove(publication.Mid);
        foreach (var (ssrc, owner) in _streamsBySsrc.ToList())
        {
            if (ReferenceEquals(owner.Publication, publication)) _streamsBySsrc.Remove(ssrc);
        }
        foreach (var subscription in publication.Subscribers.ToList()) subscription.Subscriber.RemoveSubscription(subscription);
    }

    private void ApplySubscriptions(NegotiatedSession session, Dictionary<string, Publication> planned, Dictionary<string, int> priorities)
    {
        foreach (var media in session.Media)
        {
            var existing = _subscriptionsByMid.GetValueOrDefault(media.Mid);
            var wanted = !media.IsRejected && media.LocalStream is not null && media.Direction is SdpDirection.SendOnly or SdpDirection.SendRecv
                ? planned.GetValueOrDefault(media.Mid)
                : null;
            if (existing is not null && ReferenceEquals(existing.Publication, wanted))
            {
                existing.Priority = priorities.GetValueOrDefault(media.Mid);
                continue;
            }
            if (existing is not null) RemoveSubscription(existing);
            if (wanted is null) continue;
            var subscription = new Subscription(wanted, this, media) { Priority = priorities.GetValueOrDefault(media.Mid) };
            _nextAllocation = _room.Worker.Now;
            _subscriptionsByMid[media.Mid] = subscription;
            _subscriptionsBySsrc[subscription.OutgoingSsrc] = subscription;
            wanted.AddSubscriber(subscription);
            if (RoundTrip.Latest is not null)
            {
                subscription.OnRoundTrip(RoundTrip.Smoothed);
                wanted.UpdateRetention();
            }
            // A new receiver needs a keyframe to start decoding.
            if (wanted.IsVideo) wanted.Publisher.RequestKeyframes(wanted, _room.Worker.Now);
        }
        foreach (var subscription in _subscriptionsByMid.Values.Where(s => !planned.ContainsKey(s.Mid)).ToList()) RemoveSubscription(subscription);
        ChoosePaddingSource();
    }

    public void RemoveSubscription(Subscription subscription)
    {
        if (_subscriptionsByMid.TryGetValue(subscription.Mid, out var current) && ReferenceEquals(current, subscription))
            _subscriptionsByMid.Remove(subscription.Mid);
        _subscriptionsBySsrc.Remove(subscription.OutgoingSsrc);
        subscription.Publication.RemoveSubscriber(subscription);
        if (ReferenceEquals(Egress.PaddingSource, subscription)) ChoosePaddingSource();
    }

    public void DropSubscriptionsFrom(RoomParticipant publisher)
    {
        foreach (var subscription in _subscriptionsByMid.Values.Where(s => ReferenceEquals(s.Publication.Publisher, publisher)).ToList())
            RemoveSubscription(subscription);
    }

    public void SetMuted(string kind, bool muted)
    {
        foreach (var publication in _publications)
        {
            if (publication.Kind != kind) continue;
            publication.Muted = muted;
            if (!muted && publication.IsVideo) RequestKeyframes(publication, _room.Worker.Now);
        }
    }

    // ------------------------------------------------------------------ media path (per packet)

    /// <summary>Sends a packet rewritten for this participant's leg through its egress.</summary>
    public void SendMedia(byte[] buffer, int length, EgressKind kind, TimeSpan now)
    {
        if (_connection is null || !Egress.Send(buffer, length, kind, now)) return;
        _room.Counters.CountOut(kind != EgressKind.Audio, length);
    }

    bool IEgressTransport.SendRtp(Span<byte> buffer, int length) => _connection is not null && _connection.SendRtp(buffer, length);

    void IPeerConnectionHandler.OnRtp(PeerConnection connection, Span<byte> buffer, int length, TimeSpan now)
    {
        if (!RtpPacketReader.TryParse(buffer[..length], out var rtp)) return;
        // Every packet with a transport-wide number counts for the publisher's estimate, RTX and padding probes too,
        // at the time it left the socket.
        if (_transportSequenceExtensionId > 0 && rtp.TryGetExtension(_transportSequenceExtensionId, out var transportSeq)
            && TransportSequenceNumberExtension.TryRead(transportSeq, out var twSeq))
            _transportFeedback.OnPacket(twSeq, length, now);
        if (!_streamsBySsrc.TryGetValue(rtp.Ssrc, out var stream) && !TryLearnSsrc(rtp, out stream)) return;
        var publication = stream.Publication;
        _room.Counters.CountIn(publication.IsVideo, length);
        publication.IncomingBitrate.Add(length, now);

        if (stream.RtxSsrc == rtp.Ssrc && !publication.TryUnwrapRtx(stream, buffer, ref length)) return;
        var packet = buffer[..length];
        if (!RtpPacketReader.TryParse(packet, out rtp)) return;

        stream.EnsureStatistics(rtp.Ssrc).OnPacketReceived(rtp.SequenceNumber, rtp.Timestamp, now);
        var layer = default(LayerInfo);
        if (publication.IsVideo)
        {
            stream.Nack.OnPacketReceived(rtp.SequenceNumber, now);
            stream.Buffer.Store(packet, now);
            publication.ReadLayerInfo(rtp, out layer.Temporal, out layer.Keyframe, out layer.FrameStart, out layer.LayerSync);
            layer.Spatial = stream.Index;
            publication.LayerRates.OnPacket(stream.Index, layer.Temporal, length, now);
            if (layer.FrameStart) stream.FramesReceived++;
        }
        else stream.QueueDelay.OnPacket(rtp.Timestamp, now);
        if (publication.Muted) return;
        var subscribers = publication.Subscribers;
        for (var i = 0; i < subscribers.Count; i++) subscribers[i].Forward(packet, layer, now);
        if (subscribers.Count > 0 && (_forwardSample++ & 15) == 0 && _room.Manager.Server.ForwardingDelayObserver is { } observe)
            observe(_room.Worker.Now - now);
    }

    /// <summary>An SSRC the offer did not announce: find its publication by the MID header extension (RFC 8843 §15),
    /// and for a simulcast track its encoding by the RID or repaired-RID extension (RFC 8852 §3); on a plain video
    /// section a second SSRC is its RTX stream.</summary>
    private bool TryLearnSsrc(in RtpPacketReader rtp, out PublishedStream stream)
    {
        stream = null!;
        if (_midExtensionId < 0 || _streamsBySsrc.Count >= 64 || !rtp.TryGetExtension(_midExtensionId, out var midBytes)) return false;
        foreach (var candidate in _publications)
        {
            if (!RtpStringExtension.Equals(midBytes, candidate.Mid)) continue;
            if (candidate.IsSimulcast)
            {
                if (_ridExtensionId > 0 && rtp.TryGetExtension(_ridExtensionId, out var rid) && candidate.FindStreamByRid(rid) is { Ssrc: null } media)
                {
                    media.Ssrc = rtp.Ssrc;
                    stream = media;
                }
                else if (_repairedRidExtensionId > 0 && rtp.TryGetExtension(_repairedRidExtensionId, out var repaired)
                         && candidate.FindStreamByRid(repaired) is { RtxSsrc: null } repairedStream)
                {
                    repairedStream.RtxSsrc = rtp.Ssrc;
                    stream = repairedStream;
                }
                else return false;
            }
            else
            {
                stream = candidate.Streams[0];
                if (stream.Ssrc is null) stream.Ssrc = rtp.Ssrc;
                else if (stream.RtxSsrc is null) stream.RtxSsrc = rtp.Ssrc;
                else return false;
            }
            _streamsBySsrc[rtp.Ssrc] = stream;
            return true;
        }
        return false;
    }

    void IPeerConnectionHandler.OnRtcp(PeerConnection connection, Span<byte> buffer, int length, TimeSpan now)
    {
        foreach (var packet in new RtcpCompoundReader(buffer[..length]))
        {
            switch (packet.PacketType)
            {
                case RtcpPacketType.TransportFeedback when packet.Format == 1 && TransportLayerNack.TryParse(packet.Packet, out var nack):
                    if (!_subscriptionsBySsrc.TryGetValue(nack.MediaSsrc, out var nacked)) break;
                    _room.Counters.NacksReceived++;
                    foreach (var seq in nack.LostSequenceNumbers)
                    {
                        var result = nacked.Retransmit(seq, now, out var firstRequest);
                        _room.Counters.NackedPackets++;
                        // A packet the SFU had, the first time it is asked for: resent now, or too old to resend (the
                        // browser's repeats of the same NACK, every round trip, are not counted again).
                        if (firstRequest && result is RetransmitResult.Sent or RetransmitResult.TooOld) _room.Counters.NackedPacketsHeld++;
                        if (result == RetransmitResult.Sent) _room.Counters.Retransmissions++;
                    }
                    break;
                case RtcpPacketType.TransportFeedback when packet.Format == TransportWideFeedback.Format
                                                          && TransportWideFeedback.TryParse(packet.Packet, out var transportFeedback):
                    Egress.OnTransportFeedback(transportFeedback, now);
                    break;
                case RtcpPacketType.PayloadSpecificFeedback when packet.Format == 1 && PictureLossIndication.TryParse(packet.Packet, out var pli):
                    if (_subscriptionsBySsrc.TryGetValue(pli.MediaSsrc, out var wantsKeyframe))
                    {
                        _room.Counters.PlisReceived++;
                        wantsKeyframe.RequestKeyframe(now);
                    }
                    break;
                case RtcpPacketType.PayloadSpecificFeedback when packet.Format == 4 && FullIntraRequest.TryParse(packet.Packet, out var fir):
                    foreach (var entry in fir.Entries)
                    {
                        if (!_subscriptionsBySsrc.TryGetValue(entry.Ssrc, out var firSubscription)) continue;
                        _room.Counters.PlisReceived++;
                        firSubscription.RequestKeyframe(now);
                    }
                    break;
                case RtcpPacketType.SenderReport when SenderReport.TryParse(packet.Packet, out var report):
                    if (_streamsBySsrc.TryGetValue(report.Ssrc, out var reported)) reported.Statistics?.OnSenderReport(report.NtpTimestamp, now);
                    OnReportBlocks(report.ReportBlocks, now);
                    break;
                case RtcpPacketType.ReceiverReport when ReceiverReport.TryParse(packet.Packet, out var receiverReport):
                    OnReportBlocks(receiverReport.ReportBlocks, now);
                    break;
            }
        }
    }

    /// <summary>The participant's reports about the SFU's streams give this leg's round trip, which sets how long
    /// packets are kept and asked for on it.</summary>
    private void OnReportBlocks(RtcpItemList<ReportBlock> blocks, TimeSpan now)
    {
        var measured = false;
        uint? arrival = null;
        foreach (var block in blocks)
        {
            if (!_subscriptionsBySsrc.TryGetValue(block.Ssrc, out var subscription)) continue;
            subscription.OnReportBlock(block.FractionLost, now);
            if (block.LastSenderReport == 0) continue;
            arrival ??= (uint)(SendStatistics.ToNtpTimestamp(_room.Manager.Server.Time.GetUtcNow().UtcDateTime) >> 16);
            measured |= RoundTrip.OnReportBlock(arrival.Value, block.LastSenderReport, block.DelaySinceLastSenderReport);
        }
        if (!measured) return;
        var rtt = RoundTrip.Smoothed;
        Egress.OnRoundTripTime(rtt);
        foreach (var publication in _publications)
        {
            foreach (var stream in publication.Streams)
            {
                stream.Nack.Rtt = rtt;
                stream.Nack.MaxAge = Publication.RetentionFor(rtt);
            }
        }
        foreach (var subscription in _subscriptionsByMid.Values)
        {
            subscription.OnRoundTrip(rtt);
            subscription.Publication.UpdateRetention();
        }
    }

    /// <summary>A subscriber asked for a packet of <paramref name="stream"/> that the SFU never received: ask this
    /// participant (its publisher) for it now.</summary>
    public void RequestRetransmission(PublishedStream stream, ushort sequenceNumber, TimeSpan now)
    {
        if (!stream.Nack.Request(sequenceNumber, now)) return;
        SendNacks(stream, now);
    }

    /// <summary>Asks this participant (the publisher) for a keyframe of <paramref name="stream"/>, at most once per
    /// throttle interval; a request inside the interval is sent when it ends.</summary>
    public void RequestKeyframe(PublishedStream stream, TimeSpan now)
    {
        if (stream.Keyframes.OnRequest(now)) SendKeyframeRequest(stream);
    }

    /// <summary>Keyframes of every stream of <paramref name="publication"/> (a new receiver, an unmute).</summary>
    public void RequestKeyframes(Publication publication, TimeSpan now)
    {
        foreach (var stream in publication.Streams) RequestKeyframe(stream, now);
    }

    private void SendKeyframeRequest(PublishedStream stream)
    {
        if (stream.Ssrc is not { } mediaSsrc || _connection is not { State: PeerConnectionState.Connected }) return;
        var length = stream.Keyframes.WriteRequest(_rtcpBuffer, _rtcpSsrc, mediaSsrc);
        if (_connection.SendRtcp(_rtcpBuffer, length)) _room.Counters.PlisSent++;
    }

    // ------------------------------------------------------------------ timers

    public TimeSpan? NextTimeout
    {
        get
        {
            var next = _connection?.NextTimeout;
            if (_connection is { State: PeerConnectionState.Connected } && (_publications.Count > 0 || _subscriptionsByMid.Count > 0))
                next = Min(next, _nextReport);
            if (_connection is { State: PeerConnectionState.Connected })
            {
                next = Min(next, _transportFeedback.NextTimeout);
                next = Min(next, Egress.NextTimeout);
                if (_subscriptionsByMid.Count > 0) next = Min(next, _nextAllocation);
                if (_publications.Count > 0) next = Min(next, _nextLayerCheck);
                next = Min(next, _pose?.NextTimeout);
            }
            foreach (var publication in _publications)
            {
                foreach (var stream in publication.Streams)
                {
                    next = Min(next, stream.Nack.NextTimeout);
                    next = Min(next, stream.Keyframes.NextTimeout);
                }
            }
            return next;
        }
    }

    private static TimeSpan? Min(TimeSpan? a, TimeSpan? b) => a is null ? b : b is null ? a : (a < b ? a : b);

    public void HandleTimeout(TimeSpan now)
    {
        if (_connection is null) return;
        _connection.HandleTimeout(now);
        if (_connection.State != PeerConnectionState.Connected) return;

        SendTransportFeedback(now);
        if (now >= _nextAllocation && _subscriptionsByMid.Count > 0) AllocateLayers(now);
        if (now >= _nextLayerCheck)
        {
            UpdatePausedLayers(now);
            CheckUplinkMode(now);
        }
        Egress.HandleTimeout(now);
        if (_pose is { NextTimeout: { } poseDue } && now >= poseDue) _room.Pose.HandleTimeout(_pose, now);
        foreach (var publication in _publications)
        {
            foreach (var stream in publication.Streams)
            {
                if (stream.Keyframes.Poll(now)) SendKeyframeRequest(stream);
                SendNacks(stream, now);
            }
        }

        if (now >= _nextReport)
        {
            _nextReport = now + ReportInterval;
            SendReceiverReport(now);
            SendSenderReports(now);

        }
    }

    private void SendNacks(PublishedStream stream, TimeSpan now)
    {
        if (stream.Ssrc is not { } mediaSsrc || _connection is not { State: PeerConnectionState.Connected }) return;
        // A muted track is forwarded to nobody (a patient's trial of its lowest layer in audio + pose): what it lost is
        // not worth the weak uplink a retransmission would take. Nor is the video of a participant the ladder just put
        // in audio + pose, until its page mutes it: on a queue that overflows, NACKs for the drops bring retransmissions
        // that overflow it again, for seconds after the page stopped its video.
        if (stream.Publication.Muted || (stream.Publication.IsVideo && OnWeakLink))
        {
            if (stream.Nack.MissingCount > 0) stream.Nack.Clear();
            return;
        }
        Span<ushort> lost = stackalloc ushort[MaxNacksPerPacket];
        Span<NackPair> pairs = stackalloc NackPair[MaxNacksPerPacket];
        // Everything due goes now, a NACK packet per MaxNacksPerPacket sequence numbers (on EDGE a loss burst leaves
        // more than one packet's worth due at once; what is left due would keep this peer's deadline in the past).
        for (var batch = 0; batch < MaxNackPacketsPerTimeout; batch++)
        {
            var count = stream.Nack.CollectNacks(now, lost);
            if (count == 0) return;
            var pairCount = TransportLayerNack.BuildPairs(lost[..count], pairs);
            var length = new TransportLayerNack(_rtcpSsrc, mediaSsrc, pairs[..pairCount]).WriteTo(_rtcpBuffer);
            if (length > 0 && _connection.SendRtcp(_rtcpBuffer, length)) _room.Counters.NacksSent++;
            if (count < MaxNacksPerPacket) return;
        }
    }

    /// <summary>Enough NACK packets for every sequence number a stream's generator can hold (its default capacity).</summary>
    private const int MaxNackPacketsPerTimeout = 8;

    /// <summary>Transport-wide feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1) about every packet
    /// this participant sent with a transport-wide number, so its browser estimates its uplink.</summary>
    private void SendTransportFeedback(TimeSpan now)
    {
        if (_publications.Count > 0 && _publications[0].PrimarySsrc is { } mediaSsrc) _transportFeedback.MediaSsrc = mediaSsrc;
        for (var i = 0; i < 16; i++)
        {
            var length = _transportFeedback.WriteFeedback(now, _rtcpBuffer);
            if (length == 0) break;
            if (_connection!.SendRtcp(_rtcpBuffer, length)) _room.Counters.TransportFeedbackSent++;
        }
    }

    /// <summary>RFC 3550 §6.4.1: a sender report per stream the SFU sends this participant, so its receiver can
    /// map RTP time to wall-clock time (lip sync) and measure round trips.</summary>
    private void SendSenderReports(TimeSpan now)
    {
        var ntp = SendStatistics.ToNtpTimestamp(_room.Manager.Server.Time.GetUtcNow().UtcDateTime);
        foreach (var subscription in _subscriptionsByMid.Values)
        {
            if (!subscription.Statistics.HasSent) continue;
            var length = RtcpReportWriter.WriteSenderReport(_rtcpBuffer, subscription.Statistics, ntp, now, [], Cname);
            if (length > 0) _connection!.SendRtcp(_rtcpBuffer, length);
        }
    }

    private static ReadOnlySpan<byte> Cname => "telerehab-sfu"u8;

    /// <summary>The packet time asked of every voice while the room has a participant on a weak link (<see
    /// cref="MediaRoom.WeakAudio"/>), in ms.</summary>
    private const int WeakAudioPacketTime = 60;

    /// <summary>The packet time asked for while the room's voices are <see cref="VoiceRung.Starved"/>, in ms (Opus's
    /// longest frame: on GPRS a 60 ms packet's 70 bytes of headers would still be most of it).</summary>
    private const int StarvedAudioPacketTime = 120;

    private static readonly TimeSpan AllocationInterval = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan LayerCheckInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// The weak-link ladder's last rungs on this participant's uplink: each layer check hands what the uplink delivered
    /// since the last (rates, the best encoding's frame rate, the standing queue and loss on the audio, and this leg's
    /// downlink estimate) to its <see cref="UplinkModeDecider"/>; a decision goes to the control plane, which tells the
    /// page to send video or audio + pose, or to try its lowest layer.
    /// </summary>
    private void CheckUplinkMode(TimeSpan now)
    {
        if (_uplinkMode is null || _pose is not { Role: PoseRole.Sender }) return;
        // The first check (or the first after a stall of the worker) only starts the counts: its figures cover too long.
        var span = now - _previousModeCheck;
        var valid = _previousModeCheck > TimeSpan.Zero && span > TimeSpan.Zero && span <= 8 * LayerCheckInterval;
        _previousModeCheck = _lastModeCheck;
        _lastModeCheck = now;
        long received = 0, video = 0;
        double fps = 0;
        var videoWanted = false;
        var delay = TimeSpan.Zero;
        long expected = 0, lost = 0;
        foreach (var publication in _publications)
        {
            var bps = publication.IncomingBitrate.Bps(now);
            received += bps;
            if (publication.IsVideo)
            {
                video += bps;
                videoWanted |= !publication.Muted;
            }
            foreach (var stream in publication.Streams)
            {
                if (publication.IsVideo)
                {
                    // Over the last two checks: at a few frames a second, half a second holds one frame or none.
                    if (valid) fps = Math.Max(fps, (stream.FramesReceived - stream.FramesAtPreviousModeCheck) / span.TotalSeconds);
                    stream.FramesAtPreviousModeCheck = stream.FramesAtModeCheck;
                    stream.FramesAtModeCheck = stream.FramesReceived;
                    continue;
                }
                var meter = stream.QueueDelay;
                if (meter.PacketsInInterval > 0)
                {
                    var standing = meter.TakeStandingDelay();
                    if (standing > delay) delay = standing;
                }
                if (stream.Statistics is not { } statistics) continue;
                var totalLost = Math.Max(0, statistics.CumulativeLost);
                var totalExpected = statistics.PacketsReceived + totalLost;
                expected += totalExpected - stream.ReceivedAtModeCheck;
                lost += totalLost - stream.LostAtModeCheck;
                stream.ReceivedAtModeCheck = totalExpected;
                stream.LostAtModeCheck = totalLost;
            }
        }
        // The round trip from the downlink's transport-wide feedback, which comes several times a second (the new
        // path after a handover shows within a check); receiver reports only while the leg has had no feedback.
        if (Egress.Estimator.TakeFeedbackRoundTrip() is { } feedbackRtt) _feedbackRoundTrip = feedbackRtt;
        if (!valid) return;
        var downlink = Egress.Estimator.FeedbacksReceived > 0 ? Egress.EstimateBps : 0;
        var roundTrip = _feedbackRoundTrip > TimeSpan.Zero ? _feedbackRoundTrip : RoundTrip.Latest ?? TimeSpan.Zero;
        var sample = new UplinkSample(received, video, fps, videoWanted, delay, (int)Math.Clamp(expected, 0, int.MaxValue),
            (int)Math.Clamp(lost, 0, int.MaxValue), downlink, roundTrip);
        if (_uplinkMode.Update(sample, now)) _room.UplinkModeChanged(this, _uplinkMode.Mode, _uplinkMode.Reason, _uplinkMode.TrialBps);
    }

    private UplinkModeDecider? _uplinkMode;
    private TimeSpan _feedbackRoundTrip;
    private TimeSpan _lastModeCheck;
    private TimeSpan _previousModeCheck;

    /// <summary>The ladder's decision for this participant's uplink (null: it sends no movement, the ladder does not apply).</summary>
    internal UplinkModeDecider? UplinkMode => _uplinkMode;

    /// <summary>The ladder put this participant in audio + pose because its uplink could not carry video (by its own
    /// measurements, the pre-session check's or the page's: every reason it has for audio + pose).</summary>
    internal bool OnWeakLink => _uplinkMode is { Mode: Sfu.UplinkMode.AudioPose };

    /// <summary>Puts the ladder in audio + pose for evidence from outside the SFU (<see cref="UplinkModeDecider.StepDown"/>)
    /// and tells the control plane as for its own decisions. False when this participant has no ladder (it sends no
    /// movement) or the ladder is in audio + pose already.</summary>
    internal bool StepDownUplink(string reason)
    {
        if (_uplinkMode is null || !_uplinkMode.StepDown(reason, _room.Worker.Now)) return false;
        _room.UplinkModeChanged(this, _uplinkMode.Mode, _uplinkMode.Reason, _uplinkMode.TrialBps);
        return true;
    }

    /// <summary>On a weak link that cannot carry even the voice and the movement at their weak-link rates
    /// (<see cref="UplinkModeDecider.Starved"/>).</summary>
    internal bool OnStarvedLink => OnWeakLink && _uplinkMode!.Starved;

    /// <summary>
    /// A participant <see cref="OnWeakLink"/> whose downlink budget (the estimate less the voices) was below this in at
    /// least <see cref="WeakDownlinkSeconds"/> of the last <see cref="LowSecondsWindow.Seconds"/> seconds (its overshoots
    /// last up to 20 s) is sent no video: the lowest layer beside the voices would take most of such a link. The estimate
    /// alone cannot make the call, as on a slow link a probe cluster shorter than the bottleneck's burst passes at line
    /// rate and reads several times the link for a while (300-900 kbit/s on a 120 kbit/s EDGE downlink); but its lows
    /// are real, and an uplink too weak for video says the radio is. A 3G downlink of some hundreds of kbit/s keeps its
    /// video under a weak uplink while its estimate stays above this.
    /// <para>
    /// One low second is enough. Eight were tried (after a drop from 4G to a 400 kbit/s 3g-poor downlink the estimate
    /// is below this for 3-4 s while it finds the new link, and one low sample then held that patient's video off for
    /// 30 s): the schedule test then kept the lower layer in 2 runs of 5, but on GPRS and 3g-poor the start sent video
    /// down for seconds longer, and a CI run concealed 15 % of a GPRS patient's voice (docs/weak-links.md).
    /// </para>
    /// </summary>
    private const long WeakDownlinkBps = 150_000;

    private const int WeakDownlinkSeconds = 1;

    private LowSecondsWindow _downlinkLows;

    /// <summary>As a publisher: tells the control plane which simulcast encodings to keep sending (a layer that no
    /// subscriber needs is paused at the publisher, not only dropped here).</summary>
    private void UpdatePausedLayers(TimeSpan now)
    {
        _nextLayerCheck = now + LayerCheckInterval;
        foreach (var publication in _publications)
        {
            if (publication.UpdatePausedLayers(now)) _room.PublishedLayersChanged(this, publication, publication.ActiveRids);
        }
    }
    private readonly List<Subscription> _videoByPriority = [];

    /// <summary>
    /// Shares this leg's estimate out (ARCHITECTURE: the budget by priority): audio first, always; then each video in
    /// priority order gets the best layer that fits what is left, and what does not fit is paused for this receiver
    /// only. Without the subscriber's transport-wide feedback there is no estimate and every video gets its top layer.
    /// The top layers' sum is what the leg would like, and the estimator probes towards it.
    /// </summary>
    private void AllocateLayers(TimeSpan now)
    {
        _nextAllocation = now + AllocationInterval;
        var budget = Egress.Estimator.FeedbacksReceived > 0 ? Egress.EstimateBps : long.MaxValue;
        long wanted = 0;
        _videoByPriority.Clear();
        foreach (var subscription in _subscriptionsByMid.Values)
        {
            if (subscription.Layers is not null)
            {
                var at = 0;
                var priority = EffectivePriority(subscription);
                while (at < _videoByPriority.Count && EffectivePriority(_videoByPriority[at]) >= priority) at++;
                _videoByPriority.Insert(at, subscription);
                continue;
            }
            var audio = subscription.Publication.IncomingBitrate.Bps(now);
            budget -= audio;
            wanted += audio;
        }
        // Pose keypoints come second, after audio and before any video: what this leg was sent of them last second.
        if (_pose is not null)
        {
            var pose = _room.Pose.SentBitrateBps(_pose, now);
            budget -= pose;
            wanted += pose;
        }
        // On a weak link no video (SendsNoVideo), and probes look only for room for the lowest video layer: each probe
        // cluster is a burst the link must queue, which the voices wait behind.
        _downlinkLows.Record(budget < WeakDownlinkBps, now);
        var weak = OnWeakLink && _downlinkLows.LowSeconds(now) >= WeakDownlinkSeconds;
        if (weak) budget = 0;
        var beforeVideo = wanted;
        foreach (var subscription in _videoByPriority) wanted += subscription.Allocate(ref budget, now);
        if (weak && _videoByPriority.Count > 0) wanted = beforeVideo + _room.Manager.UplinkMode.LowestVideoBps;
        if (wanted > 0) Egress.SetWantedBitrate(wanted + wanted / 10, now);
    }

    /// <summary>A video's place in this leg's budget: the participant the therapist put in focus first, then by role
    /// (<see cref="Subscription.Priority"/>, set at negotiation: a patient's leg serves the therapist first).</summary>
    private int EffectivePriority(Subscription subscription) =>
        subscription.Priority + (_room.Focus is { } focus && subscription.Publication.Publisher.Id == focus ? FocusPriorityBoost : 0);

    private const int FocusPriorityBoost = 2;

    /// <summary>Each video's place in this leg's budget (0 is served first), as <see cref="AllocateLayers"/> orders them.</summary>
    private Dictionary<Subscription, int> BudgetRanks()
    {
        var ranks = new Dictionary<Subscription, int>();
        var rank = 0;
        foreach (var subscription in _subscriptionsByMid.Values.Where(s => s.Layers is not null).OrderByDescending(EffectivePriority))
            ranks[subscription] = rank++;
        return ranks;
    }

    /// <summary>The video subscription whose RTX stream carries this leg's probe padding.</summary>
    private void ChoosePaddingSource()
    {
        Egress.PaddingSource = _subscriptionsByMid.Values.FirstOrDefault(s => s.CanPad);
    }

    /// <summary>RFC 3550 §6.4.2: a receiver report with a block per stream the SFU receives from this publisher.</summary>
    private void SendReceiverReport(TimeSpan now)
    {
        Span<ReportBlock> blocks = stackalloc ReportBlock[16];
        var count = 0;
        foreach (var publication in _publications)
        {
            foreach (var stream in publication.Streams)
            {
                if (stream.Statistics is not { } statistics || count >= blocks.Length) continue;
                blocks[count] = statistics.CreateReportBlock(now);
                stream.OnUplinkReport(blocks[count++].FractionLost, now);
            }
        }
        if (count == 0) return;
        UpdateQuality(blocks[..count]);
        ReportDownstreamAudioLoss(blocks[..count], now);
        var length = RtcpReportWriter.WriteReceiverReport(_rtcpBuffer, _rtcpSsrc, blocks[..count], Cname);
        if (length > 0) _connection!.SendRtcp(_rtcpBuffer, length);
    }

    /// <summary>
    /// A publisher's Opus encoder adds in-band FEC (RFC 6716 §2.1.7; offered with <c>useinbandfec=1</c>) in proportion
    /// to the loss its receiver reports. Its receiver is the SFU, on a path that may be clean while a subscriber's leg
    /// loses packets: so the report for an audio stream carries the worst fraction lost that its subscribers reported
    /// recently, when that is higher than the SFU's own. A deliberate departure from RFC 3550 §6.4.1 (the field then
    /// describes the stream's worst path, not this hop), as SFUs commonly do; cumulative loss stays this hop's.
    /// </summary>
    private void ReportDownstreamAudioLoss(Span<ReportBlock> blocks, TimeSpan now)
    {
        for (var i = 0; i < blocks.Length; i++)
        {
            if (!_streamsBySsrc.TryGetValue(blocks[i].Ssrc, out var stream) || stream.Publication.IsVideo) continue;
            var worst = stream.Publication.WorstDownstreamLoss(now);
            if (worst > blocks[i].FractionLost) blocks[i] = blocks[i] with { FractionLost = worst };
        }
    }

    /// <summary>The quality of this participant's uplink as the SFU receives it, from the interval's report blocks
    /// (RFC 3550 §6.4.1 fraction lost and interarrival jitter; a stream that sent nothing for a whole interval is a
    /// stall). Reported to the control plane when it changes.</summary>
    private void UpdateQuality(ReadOnlySpan<ReportBlock> blocks)
    {
        var worstLoss = 0.0;
        var worstJitterMs = 0.0;
        var stalled = false;
        foreach (var block in blocks)
        {
            var stream = _streamsBySsrc.GetValueOrDefault(block.Ssrc);
            if (stream is null) continue;
            worstLoss = Math.Max(worstLoss, block.FractionLost / 256.0);
            worstJitterMs = Math.Max(worstJitterMs, block.Jitter * 1000.0 / stream.Publication.ClockRate);
            // A simulcast layer the publisher paused by itself (its uplink estimate) is not a stall of the track.
            stalled |= stream.LastReportedHighestSequence == block.ExtendedHighestSequenceNumber && !stream.Publication.IsSimulcast;
            stream.LastReportedHighestSequence = block.ExtendedHighestSequenceNumber;
        }
        var quality = stalled || worstLoss >= 0.10 || worstJitterMs >= 100 ? "poor"
            : worstLoss >= 0.02 || worstJitterMs >= 30 ? "fair"
            : "good";
        if (quality == Quality) return;
        Quality = quality;
        _room.QualityChanged(this, quality);
    }

    /// <summary>"good", "fair", "poor" or "unknown" (nothing received yet): see <see cref="UpdateQuality"/>.</summary>
    public string Quality { get; private set; } = "unknown";

    // ------------------------------------------------------------------ host plumbing

    public void HandleDatagram(Span<byte> buffer, int length, IPacketPath path, TimeSpan now) =>
        _connection?.HandleDatagram(buffer, length, path, now);

    public void Close(string reason)
    {
        if (_connection is not null) _connection.Close(reason);
        else Finish(reason);
    }

    public void Dispose() => _connection?.Dispose();

    bool IMediaPeer.IsClosed => _closed;

    void IPeerConnectionHandler.OnPathSelected(PeerConnection connection, IPacketPath path) => _room.Manager.Server.BindPath(this, path);

    /// <summary>The peer checked with an ICE restart's credentials: the old ufrag finds this participant no more, and
    /// the agent refuses checks with it (401, RFC 8489 §9.1.3).</summary>
    void IPeerConnectionHandler.OnIceCredentialsRetired(PeerConnection connection, IceCredentials retired)
        => _room.Manager.Server.RemoveUfrag(this, retired.Ufrag);

    /// <summary>New local credentials for an ICE restart, already reachable by their ufrag (a collision, once in 2^47,
    /// draws again); null when this participant is no longer registered.</summary>
    private IceCredentials? ReserveRestartCredentials()
    {
        for (var attempt = 0; attempt < 4; attempt++)
        {
            var credentials = IceCredentials.Generate();
            if (_room.Manager.Server.AddUfrag(this, credentials.Ufrag)) return credentials;
            if (_room.Manager.Server.FindPeer(credentials.Ufrag) is null) return null; // not registered (closing)
        }
        return null;
    }

    void IPeerConnectionHandler.OnConnected(PeerConnection connection)
    {
        _nextReport = _room.Worker.Now + ReportInterval;
        _room.ParticipantConnected(this);
        // Keyframes for everything this participant receives, so its video starts at once.
        var now = _room.Worker.Now;
        foreach (var subscription in _subscriptionsByMid.Values)
        {
            if (subscription.Publication.IsVideo) subscription.Publication.Publisher.RequestKeyframes(subscription.Publication, now);
        }
    }

    void IPeerConnectionHandler.OnClosed(PeerConnection connection, string reason)
    {
        if (connection.Failure == PeerFailure.Ice) _room.Counters.IceFailures++;
        else if (connection.Failure == PeerFailure.Dtls) _room.Counters.DtlsFailures++;
        Finish(reason);
    }

    private void Finish(string reason)
    {
        if (_closed) return;
        _closed = true;
        var published = _publications.Count > 0;
        foreach (var publication in _publications.ToList()) Unpublish(publication);
        foreach (var subscription in _subscriptionsByMid.Values.ToList()) RemoveSubscription(subscription);
        _poseChannel?.Close();
        if (_pose is not null) _room.Pose.Remove(_pose);
        _room.ParticipantClosed(this, reason, published);
    }

    // ------------------------------------------------------------------ the "pose" data channel (on the worker)

    /// <summary>Whose pose this participant receives beyond its role's default.</summary>
    public void SetPoseInterest(PoseInterest interest)
    {
        _poseInterest = interest;
        if (_pose is not null) _room.Pose.SetInterest(_pose, interest);
    }

    /// <summary>A data channel of this participant opened: the one labelled "pose" carries its keypoint frames and
    /// the poses it watches. <paramref name="send"/> sends one binary message on it; <paramref name="bufferedAmount"/>
    /// is what it holds unsent.</summary>
    internal void OnDataChannelOpened(string label, PoseChannel.SendMessage send, Func<long> bufferedAmount, TimeSpan now)
    {
        if (label != PoseChannel.Label || _closed || _pose is null) return;
        _poseChannel?.Close();
        _poseChannel = new PoseChannel(send, bufferedAmount);
        _room.Pose.SetChannel(_pose, _poseChannel, now);
    }

    /// <summary>A message arrived on one of this participant's data channels.</summary>
    internal void OnDataChannelMessage(string label, ReadOnlySpan<byte> data, bool isText, TimeSpan now)
    {
        if (label != PoseChannel.Label || _pose is null || _poseChannel is null) return;
        _room.Pose.OnMessage(_pose, data, isText, now);
    }

    /// <summary>One of this participant's data channels closed.</summary>
    internal void OnDataChannelClosed(string label, TimeSpan now)
    {
        if (label != PoseChannel.Label || _poseChannel is null) return;
        _poseChannel.Close();
        _poseChannel = null;
        if (_pose is not null) _room.Pose.SetChannel(_pose, null, now);
    }

    void IDataChannelHandler.OnChannelOpened(DataChannelTransport transport, DataChannel channel)
    {
        var streamId = channel.StreamId;
        OnDataChannelOpened(channel.Label, message => transport.Send(streamId, message, isText: false) == DataChannelSendResult.Sent,
            () => transport.BufferedAmount, _room.Worker.Now);
    }

    void IDataChannelHandler.OnMessage(DataChannelTransport transport, DataChannel channel, ReadOnlySpan<byte> data, bool isText) =>
        OnDataChannelMessage(channel.Label, data, isText, _room.Worker.Now);

    void IDataChannelHandler.OnChannelClosed(DataChannelTransport transport, DataChannel channel) =>
        OnDataChannelClosed(channel.Label, _room.Worker.Now);

    private static uint RandomSsrc() => (uint)Random.Shared.NextInt64(1, uint.MaxValue);
}
