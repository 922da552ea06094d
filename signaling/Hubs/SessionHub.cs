using Microsoft.AspNetCore.SignalR;
using TeleRehab.Signaling.Sessions;

namespace TeleRehab.Signaling.Hubs;

/// <summary>The session hub at <c>/hubs/session</c> (docs/signalling.md). Every call checks who the caller is from
/// the signed token it joined with; roles never come from the client. Methods are thin: the
/// <see cref="RoomCoordinator"/> holds the room state.</summary>
public sealed class SessionHub(RoomCoordinator rooms, JoinTokenService tokens) : Hub
{
    public const string Path = "/hubs/session";

    public JoinResult Join(string token)
    {
        if (Context.Items.ContainsKey(typeof(RoomCoordinator.Caller))) throw new HubException("conflict: this connection has already joined");
        var validation = tokens.Validate(token);
        if (!validation.IsValid) throw new HubException($"unauthorized: {Describe(validation)}");
        return rooms.Join(validation.Payload!, Context);
    }

    /// <summary>A new connection takes back the seat a dropped one held (docs/signalling.md, "Reconnecting").</summary>
    public JoinResult Resume(ResumeRequest request)
    {
        if (Context.Items.ContainsKey(typeof(RoomCoordinator.Caller))) throw new HubException("conflict: this connection has already joined");
        if (request is null || string.IsNullOrEmpty(request.Token) || string.IsNullOrEmpty(request.ResumeId) || request.ResumeId.Length > 128)
            throw new HubException("invalid: Resume needs { token, resumeId } (the resume id from your Join)");
        var validation = tokens.Validate(request.Token);
        if (!validation.IsValid) throw new HubException($"unauthorized: {Describe(validation)}");
        return rooms.Resume(validation.Payload!, request.ResumeId, Context);
    }

    public async Task<NegotiateResult> Negotiate(NegotiateRequest request)
    {
        if (request is null) throw new HubException("invalid: Negotiate needs { sdp, subscriptions }");
        if (!ParticipantModes.IsStartMode(request.StartMode))
            throw new HubException("invalid: startMode must be \"audio+pose\" (the pre-session check found a weak link) or absent");
        var caller = Caller();
        return new NegotiateResult(await rooms.NegotiateAsync(caller, request), rooms.LadderFor(caller));
    }

    /// <summary>The server is ICE-lite: every candidate it has is in its answer, and it needs none of the client's
    /// (RFC 8445 §2.5). Trickled candidates are checked and otherwise ignored.</summary>
    public void AddIceCandidate(string candidate)
    {
        Caller();
        if (string.IsNullOrWhiteSpace(candidate)) return; // end of candidates
        var line = candidate.StartsWith("candidate:", StringComparison.Ordinal) ? candidate : $"candidate:{candidate}";
        if (candidate.Length > 1024 || !Media.Ice.IceCandidate.TryParse(line, out _)) throw new HubException("invalid: not an ICE candidate line");
    }

    public Task SetMuted(MuteRequest request)
    {
        if (request is null || request.Kind is not ("audio" or "video")) throw new HubException("invalid: kind must be audio or video");
        return rooms.SetMutedAsync(Caller(), request.Kind, request.Muted);
    }

    public Task Leave() => rooms.LeaveAsync(Caller(), Context.ConnectionId, "left");

    /// <summary>Whether the caller also receives its own pose on its "pose" channel, as the therapist sees it.</summary>
    public Task SetOwnPoseView(bool show) => rooms.SetOwnPoseViewAsync(Caller(), show);

    public void Admit(string participantId) => rooms.Admit(Caller(), participantId ?? "");

    public Task MuteParticipant(MuteParticipantRequest request)
    {
        if (request is null || request.Kind is not ("audio" or "video")) throw new HubException("invalid: kind must be audio or video");
        return rooms.MuteParticipantAsync(Caller(), request.ParticipantId ?? "", request.Kind);
    }

    public Task RemoveParticipant(string participantId) => rooms.RemoveParticipantAsync(Caller(), participantId ?? "");

    /// <summary>Therapist: hold a patient in "audio+pose" (video off, movement as a skeleton), or "auto" to let it go.</summary>
    public void HoldMode(HoldModeRequest request)
    {
        if (request is null || request.Mode is not (ParticipantModes.AudioPose or "auto"))
            throw new HubException("invalid: HoldMode needs { participantId, mode: \"audio+pose\" | \"auto\" }");
        rooms.HoldMode(Caller(), request.ParticipantId ?? "", request.Mode);
    }

    /// <summary>Therapist: put a participant in focus (the video the patients' pages show large), or nobody (null: the
    /// therapist again).</summary>
    public void SetFocus(string? participantId)
    {
        if (participantId is not null && !SessionIds.LooksValid(participantId))
            throw new HubException("invalid: SetFocus needs a participant's id, or null to put nobody in focus");
        rooms.SetFocus(Caller(), participantId);
    }

    /// <summary>Patient: its page found its uplink too weak for video by itself (the server's decision was slow to come).</summary>
    public Task ReportWeakUplink(WeakUplinkReport report)
    {
        if (report is null || !report.IsValid)
            throw new HubException($"invalid: ReportWeakUplink needs {{ estimateKbps, videoKbps, rttMs }}: whole numbers from 0, kbit/s up to {WeakUplinkReport.MaxKbps}, ms up to {WeakUplinkReport.MaxRttMs}");
        return rooms.ReportWeakUplinkAsync(Caller(), report);
    }

    public void LockRoom(bool locked) => rooms.LockRoom(Caller(), locked);

    public void EndSession() => rooms.EndSession(Caller());

    public override async Task OnDisconnectedAsync(Exception? exception)
    {
        if (Context.Items.TryGetValue(typeof(RoomCoordinator.Caller), out var value) && value is RoomCoordinator.Caller caller)
            await rooms.DisconnectedAsync(caller, Context.ConnectionId);
        rooms.ForgetConnection(Context.ConnectionId);
        await base.OnDisconnectedAsync(exception);
    }

    private RoomCoordinator.Caller Caller() =>
        Context.Items.TryGetValue(typeof(RoomCoordinator.Caller), out var value) && value is RoomCoordinator.Caller caller
            ? caller
            : throw new HubException("unauthorized: call Join with your link's token first");

    private static string Describe(JoinTokenValidation validation) => validation.Status switch
    {
        JoinTokenStatus.Expired => "this link has expired; ask your therapist for a new one",
        JoinTokenStatus.BadSignature => "this link is not valid (it was changed or is from another server)",
        JoinTokenStatus.NotYetValid => "this link is not valid yet; check your device's clock",
        _ => "this link is not valid",
    };
}
