using TeleRehab.LoadTests;
using Xunit.Abstractions;

namespace TeleRehab.Media.Tests.RoomClient;

/// <summary>The operator API shows a participant whose hub connection dropped as "reconnecting" while its place is
/// kept, "connected" once it resumed it (docs/operator-api.md; it showed "connected" throughout before).</summary>
[Collection(RoomClientCollection.Name)]
public sealed class OperatorReconnectingTests(ITestOutputHelper output) : IAsyncLifetime
{
    private RoomTestKit _kit = null!;

    public async Task InitializeAsync() => _kit = await RoomTestKit.StartAsync(output);

    public async Task DisposeAsync() => await _kit.DisposeAsync();

    private async Task<string> StateAsync(string sessionId, string participantId)
    {
        var json = await _kit.Api.GetAsync(sessionId);
        return json.GetProperty("participants").EnumerateArray().Single(p => p.GetProperty("id").GetString() == participantId)
            .GetProperty("state").GetString()!;
    }

    [Fact]
    public async Task The_operator_api_shows_a_dropped_participant_reconnecting_then_connected_again()
    {
        // The patient waits 3 s before connecting again: long enough to read the session while it is away.
        var session = await _kit.Api.CreateAsync("one-to-one", waitingRoom: false, title: "operator view");
        var therapist = await _kit.JoinAsync("therapist", session.TherapistLink);
        var patient = await _kit.JoinAsync("patient", session.PatientLink!,
            new SessionClientOptions { ReconnectDelays = [TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(1)] });
        var patientId = patient.ParticipantId;
        Assert.Equal("connected", await StateAsync(session.Id, patientId));

        patient.AbortHub(); // the TCP connection is cut: no close frame, no Leave
        await therapist.WaitForEventAsync<ParticipantInfo>(HubNames.ParticipantUpdated,
            p => p.Id == patientId && p.State == "reconnecting", RoomTestKit.Generous);
        Assert.Equal("reconnecting", await StateAsync(session.Id, patientId));
        Assert.Equal("connected", await StateAsync(session.Id, therapist.ParticipantId));

        await patient.WaitForEventAsync<JoinResultDto>(ClientEvents.Resumed, null, RoomTestKit.Generous);
        await therapist.WaitForEventAsync<ParticipantInfo>(HubNames.ParticipantUpdated,
            p => p.Id == patientId && p.State == "connected", RoomTestKit.Generous);
        Assert.Equal("connected", await StateAsync(session.Id, patientId));
    }
}
