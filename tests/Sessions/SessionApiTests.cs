using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Time.Testing;
using TeleRehab.Signaling.Sessions;
using static TeleRehab.Media.Tests.Sessions.Http;

namespace TeleRehab.Media.Tests.Sessions;

/// <summary>The operator API over real HTTP: happy paths.</summary>
public sealed class SessionApiTests(SessionApiFixture fixture) : IClassFixture<SessionApiFixture>
{
    private readonly JoinTokenService _tokens = new(SessionApiFixture.SigningKey, TimeSpan.FromHours(2), TimeProvider.System);

    private JoinTokenPayload Validate(string link)
    {
        var result = _tokens.Validate(TokenOf(link));
        Assert.True(result.IsValid, result.Reason);
        return result.Payload!;
    }

    [Fact]
    public async Task Creating_a_one_to_one_session_returns_three_links_that_parse_to_tokens()
    {
        using var http = Client(fixture.Host);
        var (status, body, response) = await SendAsync(http, HttpMethod.Post, "/api/sessions",
            """{"title":"Knee rehab, week 3","kind":"one-to-one","waitingRoom":true,"therapistName":"Dr. Okafor","patientName":"Ana"}""");

        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var json = Json(body);
        var id = json.GetProperty("id").GetString()!;
        Assert.True(SessionIds.LooksValid(id));
        Assert.Equal("one-to-one", json.GetProperty("kind").GetString());
        Assert.Equal($"/api/sessions/{id}", response.Headers.Location?.OriginalString);

        var links = json.GetProperty("links");
        var therapist = links.GetProperty("therapist").GetString()!;
        var patient = links.GetProperty("patient").GetString()!;
        var observer = links.GetProperty("observer").GetString()!;
        foreach (var link in new[] { therapist, patient, observer })
            Assert.StartsWith(fixture.Host.BaseAddress.GetLeftPart(UriPartial.Authority) + "/join#", link);

        var t = Validate(therapist);
        var p = Validate(patient);
        var o = Validate(observer);
        Assert.Equal((id, ParticipantRole.Therapist, "Dr. Okafor"), (t.SessionId, t.Role, t.DisplayName));
        Assert.Equal((id, ParticipantRole.Patient, "Ana"), (p.SessionId, p.Role, p.DisplayName));
        Assert.Equal((id, ParticipantRole.Observer, "Observer"), (o.SessionId, o.Role, o.DisplayName));
        Assert.Equal(3, new[] { t.ParticipantId, p.ParticipantId, o.ParticipantId }.Distinct().Count());
        Assert.Equal(TimeSpan.FromHours(2), t.ExpiresAt - t.IssuedAt); // TeleRehab:Tokens:LifetimeHours
        Assert.Equal(ParticipantUpdateStatus.Updated, fixture.Registry.CheckAdmission(p));
    }

    [Fact]
    public async Task Group_session_has_no_patient_link_and_default_therapist_name()
    {
        using var http = Client(fixture.Host);
        var (status, body, _) = await SendAsync(http, HttpMethod.Post, "/api/sessions", """{"title":"Balance class","kind":"group","waitingRoom":false}""");

        Assert.Equal(HttpStatusCode.Created, status);
        var json = Json(body);
        Assert.Equal("group", json.GetProperty("kind").GetString());
        var links = json.GetProperty("links");
        Assert.False(links.TryGetProperty("patient", out _));
        Assert.Equal("Therapist", Validate(links.GetProperty("therapist").GetString()!).DisplayName);
    }

    [Fact]
    public async Task Group_invites_patients_one_by_one_and_get_shows_everyone()
    {
        using var http = Client(fixture.Host);
        var (_, created, _) = await SendAsync(http, HttpMethod.Post, "/api/sessions", """{"title":"Balance class","kind":"group","waitingRoom":true}""");
        var id = Json(created).GetProperty("id").GetString()!;

        var invited = new List<JoinTokenPayload>();
        foreach (var (role, name) in new[] { ("patient", "Ana"), ("patient", "Bo"), ("observer", "Ana's daughter") })
        {
            var (status, body, _) = await SendAsync(http, HttpMethod.Post, $"/api/sessions/{id}/invites", $$"""{"role":"{{role}}","displayName":"{{name}}"}""");
            Assert.Equal(HttpStatusCode.Created, status);
            var json = Json(body);
            var payload = Validate(json.GetProperty("link").GetString()!);
            Assert.Equal((id, role, name), (payload.SessionId, JoinTokenService.RoleName(payload.Role), payload.DisplayName));
            Assert.Equal(payload.ParticipantId, json.GetProperty("participantId").GetString());
            Assert.Equal(role, json.GetProperty("role").GetString());
            invited.Add(payload);
        }
        fixture.Registry.MarkWaiting(id, invited[0].ParticipantId);
        fixture.Registry.MarkConnected(id, invited[1].ParticipantId);

        var (getStatus, getBody, _) = await SendAsync(http, HttpMethod.Get, $"/api/sessions/{id}");
        Assert.Equal(HttpStatusCode.OK, getStatus);
        var session = Json(getBody);
        Assert.Equal(id, session.GetProperty("id").GetString());
        Assert.Equal("Balance class", session.GetProperty("title").GetString());
        Assert.Equal("group", session.GetProperty("kind").GetString());
        Assert.True(session.GetProperty("waitingRoom").GetBoolean());
        Assert.True(session.GetProperty("createdAt").TryGetDateTimeOffset(out _));
        Assert.Equal(System.Text.Json.JsonValueKind.Null, session.GetProperty("endedAt").ValueKind);

        var participants = session.GetProperty("participants").EnumerateArray()
            .Select(p => (Id: p.GetProperty("id").GetString(), Name: p.GetProperty("displayName").GetString(),
                Role: p.GetProperty("role").GetString(), State: p.GetProperty("state").GetString()))
            .ToList();
        Assert.Equal(5, participants.Count); // therapist + observer from create, then three invites
        Assert.Contains(participants, p => p is { Role: "therapist", Name: "Therapist", State: "invited" });
        Assert.Contains(participants, p => p is { Role: "observer", Name: "Observer", State: "invited" });
        Assert.Contains((invited[0].ParticipantId, "Ana", "patient", "waiting"), participants);
        Assert.Contains((invited[1].ParticipantId, "Bo", "patient", "connected"), participants);
        Assert.Contains((invited[2].ParticipantId, "Ana's daughter", "observer", "invited"), participants);
    }

    [Fact]
    public async Task Delete_ends_the_session_fires_the_hook_and_a_second_delete_is_gone()
    {
        using var http = Client(fixture.Host);
        var (_, created, _) = await SendAsync(http, HttpMethod.Post, "/api/sessions", """{"title":"t","kind":"one-to-one","waitingRoom":false}""");
        var id = Json(created).GetProperty("id").GetString()!;
        var ended = new TaskCompletionSource<SessionSnapshot>(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnEnded(object? sender, SessionEndedEventArgs e)
        {
            if (e.Session.Id == id) ended.TrySetResult(e.Session);
        }
        fixture.Registry.SessionEnded += OnEnded;
        try
        {
            var (status, body, _) = await SendAsync(http, HttpMethod.Delete, $"/api/sessions/{id}");
            Assert.Equal(HttpStatusCode.NoContent, status);
            Assert.Equal("", body);
            var snapshot = await ended.Task.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(3, snapshot.Participants.Count);

            var (again, reason, _) = await SendAsync(http, HttpMethod.Delete, $"/api/sessions/{id}");
            Assert.Equal(HttpStatusCode.Gone, again);
            Assert.Contains("already ended", reason);

            var (getStatus, getBody, _) = await SendAsync(http, HttpMethod.Get, $"/api/sessions/{id}");
            Assert.Equal(HttpStatusCode.OK, getStatus);
            Assert.True(Json(getBody).GetProperty("endedAt").TryGetDateTimeOffset(out _));

            var (invite, inviteReason, _) = await SendAsync(http, HttpMethod.Post, $"/api/sessions/{id}/invites", """{"role":"observer","displayName":"Late"}""");
            Assert.Equal(HttpStatusCode.Gone, invite);
            Assert.Contains("ended", inviteReason);
        }
        finally
        {
            fixture.Registry.SessionEnded -= OnEnded;
        }
    }

    [Fact]
    public async Task Links_use_the_requests_host()
    {
        using var http = Client(fixture.Host);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/sessions")
        {
            Content = new StringContent("""{"title":"t","kind":"group"}""", System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Host = "rehab.example:8443";
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var json = Json(await response.Content.ReadAsStringAsync());
        Assert.StartsWith("http://rehab.example:8443/join#", json.GetProperty("links").GetProperty("therapist").GetString());
    }

    [Fact]
    public async Task Healthz_is_still_open_and_ok()
    {
        using var http = Client(fixture.Host, apiKey: null);
        var (status, body, _) = await SendAsync(http, HttpMethod.Get, "/healthz");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("ok", body);
    }
}

/// <summary>Links built from <c>TeleRehab:PublicBaseUrl</c> for servers behind a proxy.</summary>
public sealed class SessionApiPublicBaseUrlTests
{
    [Fact]
    public async Task Links_start_with_the_configured_public_base_url()
    {
        await using var host = await Support.AppHost.StartAsync(
            ("TeleRehab:OperatorApiKey", SessionApiFixture.ApiKey),
            ("TeleRehab:PublicBaseUrl", "https://rehab.example.org/clinic/"));
        using var http = Client(host);
        var (status, body, _) = await SendAsync(http, HttpMethod.Post, "/api/sessions", """{"title":"t","kind":"one-to-one"}""");
        Assert.Equal(HttpStatusCode.Created, status);
        var links = Json(body).GetProperty("links");
        Assert.StartsWith("https://rehab.example.org/clinic/join#", links.GetProperty("patient").GetString());
        var id = Json(body).GetProperty("id").GetString()!;
        var (_, invite, _) = await SendAsync(http, HttpMethod.Post, $"/api/sessions/{id}/invites", """{"role":"observer","displayName":"Mum"}""");
        Assert.StartsWith("https://rehab.example.org/clinic/join#", Json(invite).GetProperty("link").GetString());
    }

    [Theory]
    [InlineData("ftp://rehab.example.org")]
    [InlineData("rehab.example.org")]
    [InlineData("https://rehab.example.org/?a=1")]
    public void A_malformed_public_base_url_is_refused(string url)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection([new("TeleRehab:PublicBaseUrl", url)]).Build();
        var error = Assert.Throws<InvalidOperationException>(() => Signaling.Api.OperatorApiSettings.From(configuration));
        Assert.Contains("PublicBaseUrl", error.Message);
    }
}
