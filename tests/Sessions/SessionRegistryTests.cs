using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using TeleRehab.Signaling.Sessions;

namespace TeleRehab.Media.Tests.Sessions;

public sealed class SessionRegistryTests
{
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 9, 30, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(Start);

    private SessionRegistry Create(SessionOptions? options = null, ILogger<SessionRegistry>? logger = null) =>
        new(options ?? new SessionOptions(), _time, logger);

    [Fact]
    public void Create_makes_a_url_safe_id_and_records_the_time()
    {
        var registry = Create();
        var a = registry.Create("Knee rehab", SessionKind.OneToOne, waitingRoom: true);
        var b = registry.Create("Group balance", SessionKind.Group, waitingRoom: false);

        Assert.True(SessionIds.LooksValid(a.Id));
        Assert.NotEqual(a.Id, b.Id);
        Assert.Equal(Start, a.CreatedAt);
        Assert.Null(a.EndedAt);
        Assert.Empty(a.Participants);
        Assert.True(registry.TryGet(a.Id, out var read));
        Assert.Equal(("Knee rehab", SessionKind.OneToOne, true), (read!.Title, read.Kind, read.WaitingRoom));
        Assert.False(registry.TryGet("nope", out _));
        Assert.Equal(2, registry.ActiveCount);
    }

    [Fact]
    public void One_to_one_session_has_one_therapist_and_one_patient()
    {
        var registry = Create();
        var s = registry.Create("t", SessionKind.OneToOne, false);
        Assert.Equal(AddParticipantStatus.Added, registry.AddParticipant(s.Id, ParticipantRole.Therapist, "Dr", out _, out _));
        Assert.Equal(AddParticipantStatus.Added, registry.AddParticipant(s.Id, ParticipantRole.Patient, "Ana", out var patient, out _));
        Assert.Equal(ParticipantState.Invited, patient!.State);

        Assert.Equal(AddParticipantStatus.RoleFull, registry.AddParticipant(s.Id, ParticipantRole.Patient, "Bo", out _, out var reason));
        Assert.Contains("one patient", reason);
        Assert.Equal(AddParticipantStatus.RoleFull, registry.AddParticipant(s.Id, ParticipantRole.Therapist, "Dr2", out _, out _));
    }

    [Fact]
    public void Group_patients_and_observers_are_capped()
    {
        var registry = Create(new SessionOptions { MaxGroupPatients = 3, MaxObservers = 2 });
        var s = registry.Create("t", SessionKind.Group, false);
        for (var i = 0; i < 3; i++) Assert.Equal(AddParticipantStatus.Added, registry.AddParticipant(s.Id, ParticipantRole.Patient, $"P{i}", out _, out _));
        Assert.Equal(AddParticipantStatus.RoleFull, registry.AddParticipant(s.Id, ParticipantRole.Patient, "P3", out _, out var reason));
        Assert.Contains("3 patients", reason);
        for (var i = 0; i < 2; i++) Assert.Equal(AddParticipantStatus.Added, registry.AddParticipant(s.Id, ParticipantRole.Observer, $"O{i}", out _, out _));
        Assert.Equal(AddParticipantStatus.RoleFull, registry.AddParticipant(s.Id, ParticipantRole.Observer, "O2", out _, out _));

        Assert.True(registry.TryGet(s.Id, out var read));
        Assert.Equal(5, read!.Participants.Count);
        Assert.Equal(5, read.Participants.Select(p => p.Id).Distinct().Count());
    }

    [Fact]
    public void Participant_states_follow_the_mark_calls()
    {
        var registry = Create();
        var s = registry.Create("t", SessionKind.Group, true);
        registry.AddParticipant(s.Id, ParticipantRole.Patient, "Ana", out var ana, out _);

        Assert.Equal(ParticipantUpdateStatus.Updated, registry.MarkWaiting(s.Id, ana!.Id));
        Assert.Equal(ParticipantState.Waiting, State(registry, s.Id, ana.Id));
        Assert.Equal(ParticipantUpdateStatus.Updated, registry.MarkConnected(s.Id, ana.Id));
        Assert.Equal(ParticipantState.Connected, State(registry, s.Id, ana.Id));
        Assert.Equal(ParticipantUpdateStatus.Updated, registry.MarkLeft(s.Id, ana.Id));
        Assert.Equal(ParticipantState.Left, State(registry, s.Id, ana.Id));
        Assert.Equal(ParticipantUpdateStatus.Updated, registry.MarkConnected(s.Id, ana.Id)); // rejoin

        Assert.Equal(ParticipantUpdateStatus.ParticipantNotFound, registry.MarkConnected(s.Id, "unknown"));
        Assert.Equal(ParticipantUpdateStatus.SessionNotFound, registry.MarkConnected("unknown", ana.Id));
    }

    [Fact]
    public void Lock_removal_and_admission_are_kept_in_the_session_record()
    {
        var registry = Create();
        var s = registry.Create("t", SessionKind.Group, true);
        registry.AddParticipant(s.Id, ParticipantRole.Patient, "Ana", out var ana, out _);
        registry.AddParticipant(s.Id, ParticipantRole.Patient, "Bo", out var bo, out _);
        Assert.False(registry.IsLocked(s.Id));
        Assert.False(registry.IsRemoved(s.Id, ana!.Id));
        Assert.False(registry.WasAdmitted(s.Id, ana.Id));

        registry.MarkWaiting(s.Id, ana.Id);
        Assert.False(registry.WasAdmitted(s.Id, ana.Id));
        registry.MarkConnected(s.Id, ana.Id);
        registry.MarkLeft(s.Id, ana.Id);
        Assert.True(registry.WasAdmitted(s.Id, ana.Id)); // admitted once: kept after leaving

        Assert.True(registry.SetLocked(s.Id, true));
        Assert.Equal(ParticipantUpdateStatus.Updated, registry.MarkRemoved(s.Id, bo!.Id));
        Assert.True(registry.IsLocked(s.Id));
        Assert.True(registry.IsRemoved(s.Id, bo.Id));
        Assert.False(registry.IsRemoved(s.Id, ana.Id));
        Assert.True(registry.TryGet(s.Id, out var read));
        Assert.True(read!.Locked);
        Assert.True(read.Participants.Single(p => p.Id == bo.Id).Removed);
        Assert.True(read.Participants.Single(p => p.Id == ana.Id).Admitted);

        Assert.True(registry.SetLocked(s.Id, false));
        Assert.False(registry.IsLocked(s.Id));
        Assert.Equal(ParticipantUpdateStatus.ParticipantNotFound, registry.MarkRemoved(s.Id, "unknown"));
        Assert.False(registry.IsRemoved("unknown", bo.Id));
        Assert.False(registry.SetLocked("unknown", true));
        registry.End(s.Id);
        Assert.False(registry.SetLocked(s.Id, true));
        Assert.True(registry.IsRemoved(s.Id, bo.Id));
    }

    [Fact]
    public void Snapshots_do_not_change_after_the_fact()
    {
        var registry = Create();
        var s = registry.Create("t", SessionKind.Group, false);
        registry.AddParticipant(s.Id, ParticipantRole.Patient, "Ana", out var ana, out _);
        registry.TryGet(s.Id, out var before);
        registry.MarkConnected(s.Id, ana!.Id);
        registry.AddParticipant(s.Id, ParticipantRole.Patient, "Bo", out _, out _);
        Assert.Single(before!.Participants);
        Assert.Equal(ParticipantState.Invited, before.Participants[0].State);
    }

    [Fact]
    public void End_records_the_time_raises_the_hook_once_and_freezes_the_session()
    {
        var registry = Create();
        var s = registry.Create("t", SessionKind.OneToOne, false);
        registry.AddParticipant(s.Id, ParticipantRole.Patient, "Ana", out var ana, out _);
        registry.MarkConnected(s.Id, ana!.Id);
        var ended = new List<SessionSnapshot>();
        registry.SessionEnded += (_, e) => ended.Add(e.Session);

        _time.Advance(TimeSpan.FromMinutes(45));
        Assert.Equal(EndSessionStatus.Ended, registry.End(s.Id));
        Assert.Equal(EndSessionStatus.AlreadyEnded, registry.End(s.Id));
        Assert.Equal(EndSessionStatus.NotFound, registry.End("unknown"));

        var snapshot = Assert.Single(ended);
        Assert.Equal(s.Id, snapshot.Id);
        Assert.Equal(Start.AddMinutes(45), snapshot.EndedAt);
        Assert.Equal(ParticipantState.Connected, Assert.Single(snapshot.Participants).State);
        Assert.Equal(0, registry.ActiveCount);

        Assert.Equal(AddParticipantStatus.SessionEnded, registry.AddParticipant(s.Id, ParticipantRole.Observer, "O", out _, out _));
        Assert.Equal(ParticipantUpdateStatus.SessionEnded, registry.MarkConnected(s.Id, ana.Id));
        Assert.Equal(ParticipantUpdateStatus.SessionEnded, registry.MarkWaiting(s.Id, ana.Id));
        Assert.Equal(ParticipantUpdateStatus.Updated, registry.MarkLeft(s.Id, ana.Id)); // the hub disconnects everyone
    }

    [Fact]
    public void A_failing_end_handler_is_logged_and_others_still_run()
    {
        var logger = new ListLogger<SessionRegistry>();
        var registry = Create(logger: logger);
        var s = registry.Create("t", SessionKind.Group, false);
        var ran = false;
        registry.SessionEnded += (_, _) => throw new InvalidOperationException("hub down");
        registry.SessionEnded += (_, _) => ran = true;

        Assert.Equal(EndSessionStatus.Ended, registry.End(s.Id));
        Assert.True(ran);
        Assert.Contains(logger.Messages, m => m.Level == LogLevel.Error);
    }

    [Fact]
    public void Ended_sessions_are_forgotten_after_the_retention()
    {
        var registry = Create(new SessionOptions { EndedRetentionHours = 1 });
        var s = registry.Create("t", SessionKind.Group, false);
        registry.End(s.Id);
        _time.Advance(TimeSpan.FromMinutes(59));
        Assert.True(registry.TryGet(s.Id, out _));
        _time.Advance(TimeSpan.FromMinutes(2));
        Assert.False(registry.TryGet(s.Id, out _));
    }

    [Fact]
    public void Admission_checks_session_participant_and_role()
    {
        var registry = Create();
        var s = registry.Create("t", SessionKind.Group, false);
        registry.AddParticipant(s.Id, ParticipantRole.Observer, "Mum", out var mum, out _);
        JoinTokenPayload Token(string session, string participant, ParticipantRole role) =>
            new(session, participant, role, "Mum", Start, Start.AddHours(1));

        Assert.Equal(ParticipantUpdateStatus.Updated, registry.CheckAdmission(Token(s.Id, mum!.Id, ParticipantRole.Observer)));
        Assert.Equal(ParticipantUpdateStatus.RoleMismatch, registry.CheckAdmission(Token(s.Id, mum.Id, ParticipantRole.Therapist)));
        Assert.Equal(ParticipantUpdateStatus.ParticipantNotFound, registry.CheckAdmission(Token(s.Id, "other", ParticipantRole.Observer)));
        Assert.Equal(ParticipantUpdateStatus.SessionNotFound, registry.CheckAdmission(Token("other", mum.Id, ParticipantRole.Observer)));
        registry.End(s.Id);
        Assert.Equal(ParticipantUpdateStatus.SessionEnded, registry.CheckAdmission(Token(s.Id, mum.Id, ParticipantRole.Observer)));
    }

    [Fact]
    public async Task Concurrent_invites_never_exceed_the_cap()
    {
        var registry = Create(new SessionOptions { MaxGroupPatients = 12 });
        var s = registry.Create("t", SessionKind.Group, false);
        var results = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Task.Run(() =>
            registry.AddParticipant(s.Id, ParticipantRole.Patient, $"P{i}", out _, out _))));
        Assert.Equal(12, results.Count(r => r == AddParticipantStatus.Added));
        Assert.True(registry.TryGet(s.Id, out var read));
        Assert.Equal(12, read!.Participants.Count);
    }

    private static ParticipantState State(SessionRegistry registry, string session, string participant)
    {
        Assert.True(registry.TryGet(session, out var s));
        return s!.Participants.Single(p => p.Id == participant).State;
    }
}
