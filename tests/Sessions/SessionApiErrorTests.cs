using System.Net;
using TeleRehab.Media.Tests.Support;
using static TeleRehab.Media.Tests.Sessions.Http;

namespace TeleRehab.Media.Tests.Sessions;

/// <summary>The operator API over real HTTP: every refusal has its status and a reason naming the problem.</summary>
public sealed class SessionApiErrorTests(SessionApiFixture fixture) : IClassFixture<SessionApiFixture>
{
    private async Task<string> CreateAsync(string kind = "group")
    {
        using var http = Client(fixture.Host);
        var (status, body, _) = await SendAsync(http, HttpMethod.Post, "/api/sessions", $$"""{"title":"t","kind":"{{kind}}","waitingRoom":false}""");
        Assert.Equal(HttpStatusCode.Created, status);
        return Json(body).GetProperty("id").GetString()!;
    }

    private async Task AssertStatusAsync(HttpStatusCode expected, string reasonPart, HttpMethod method, string path, string? json = null,
        string? apiKey = SessionApiFixture.ApiKey, string contentType = "application/json")
    {
        using var http = Client(fixture.Host, apiKey);
        var (status, body, response) = await SendAsync(http, method, path, json, contentType);
        Assert.Equal(expected, status);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(reasonPart, body);
    }

    public static TheoryData<string, string> Endpoints => new()
    {
        { "POST", "/api/sessions" },
        { "GET", "/api/sessions/abcdefghijkl" },
        { "DELETE", "/api/sessions/abcdefghijkl" },
        { "POST", "/api/sessions/abcdefghijkl/invites" },
    };

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task Missing_api_key_is_401_on_every_endpoint(string method, string path) =>
        await AssertStatusAsync(HttpStatusCode.Unauthorized, "missing X-Api-Key", new HttpMethod(method), path, "{}", apiKey: null);

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task Wrong_api_key_is_401_on_every_endpoint(string method, string path)
    {
        await AssertStatusAsync(HttpStatusCode.Unauthorized, "wrong X-Api-Key", new HttpMethod(method), path, "{}", apiKey: "nope");
        await AssertStatusAsync(HttpStatusCode.Unauthorized, "wrong X-Api-Key", new HttpMethod(method), path, "{}", apiKey: SessionApiFixture.ApiKey + "x");
        await AssertStatusAsync(HttpStatusCode.Unauthorized, "wrong X-Api-Key", new HttpMethod(method), path, "{}", apiKey: SessionApiFixture.ApiKey.ToUpperInvariant());
    }

    [Fact]
    public async Task Unknown_session_is_404_with_its_id()
    {
        await AssertStatusAsync(HttpStatusCode.NotFound, "no session 'abcdefghijkl'", HttpMethod.Get, "/api/sessions/abcdefghijkl");
        await AssertStatusAsync(HttpStatusCode.NotFound, "no session", HttpMethod.Delete, "/api/sessions/abcdefghijkl");
        await AssertStatusAsync(HttpStatusCode.NotFound, "no session", HttpMethod.Post, "/api/sessions/abcdefghijkl/invites",
            """{"role":"patient","displayName":"Ana"}""");
    }

    public static TheoryData<string, string> BadCreateBodies => new()
    {
        { "{", "malformed JSON" },
        { "not json", "malformed JSON" },
        { "[]", "JSON object" },
        { "null", "JSON object" },
        { "\"text\"", "JSON object" },
        { """{"kind":"group"}""", "title is required" },
        { """{"title":null,"kind":"group"}""", "title" },
        { """{"title":"","kind":"group"}""", "title must not be empty" },
        { """{"title":"   ","kind":"group"}""", "title must not be empty" },
        { $$"""{"title":"{{new string('x', 201)}}","kind":"group"}""", "title is longer than 200" },
        { """{"title":"a\u0007b","kind":"group"}""", "title must not contain control characters" },
        { """{"title":42,"kind":"group"}""", "title must be a string" },
        { """{"title":"t"}""", "kind is required" },
        { """{"title":"t","kind":"webinar"}""", "kind must be \"one-to-one\" or \"group\"" },
        { """{"title":"t","kind":"Group"}""", "kind must be" },
        { """{"title":"t","kind":"one_to_one"}""", "kind must be" },
        { """{"title":"t","kind":1}""", "kind must be" },
        { """{"title":"t","kind":"group, one-to-one"}""", "kind must be" },
        { """{"title":"t","kind":"group","waitingRoom":"yes"}""", "waitingRoom must be true or false" },
        { """{"title":"t","kind":"group","waitingroom":true}""", "unknown field 'waitingroom'" },
        { """{"title":"t","kind":"group","extra":1}""", "unknown field 'extra'" },
        { """{"title":"t","title":"u","kind":"group"}""", "title" },
        { """{"title":"t","kind":"group",}""", "malformed JSON" },
        { """{"title":"t","kind":"group"} trailing""", "malformed JSON" },
        { """{"title":"t","kind":"group","therapistName":""}""", "therapistName must not be blank" },
        { $$"""{"title":"t","kind":"group","therapistName":"{{new string('x', 101)}}"}""", "therapistName is longer than 100" },
        { """{"title":"t","kind":"group","patientName":"Ana"}""", "patientName is for one-to-one" },
    };

    [Theory]
    [MemberData(nameof(BadCreateBodies))]
    public async Task Bad_create_body_is_400_naming_the_field(string json, string reason) =>
        await AssertStatusAsync(HttpStatusCode.BadRequest, reason, HttpMethod.Post, "/api/sessions", json);

    [Fact]
    public async Task Title_of_exactly_200_characters_is_accepted()
    {
        using var http = Client(fixture.Host);
        var title = new string('é', 200);
        var (status, body, _) = await SendAsync(http, HttpMethod.Post, "/api/sessions", $$"""{"title":"{{title}}","kind":"group"}""");
        Assert.Equal(HttpStatusCode.Created, status);
        var id = Json(body).GetProperty("id").GetString();
        var (_, session, _) = await SendAsync(http, HttpMethod.Get, $"/api/sessions/{id}");
        Assert.Equal(title, Json(session).GetProperty("title").GetString());
        Assert.False(Json(session).GetProperty("waitingRoom").GetBoolean()); // default
    }

    public static TheoryData<string, string> BadInviteBodies => new()
    {
        { "{", "malformed JSON" },
        { """{"displayName":"Ana"}""", "role is required" },
        { """{"role":"doctor","displayName":"Ana"}""", "role must be \"patient\" or \"observer\"" },
        { """{"role":"therapist","displayName":"Ana"}""", "therapist link comes with the session" },
        { """{"role":"patient"}""", "displayName is required" },
        { """{"role":"patient","displayName":""}""", "displayName must not be empty" },
        { """{"role":"patient","displayName":" \t "}""", "displayName must not be empty" },
        { $$"""{"role":"patient","displayName":"{{new string('x', 101)}}"}""", "displayName is longer than 100" },
        { """{"role":"patient","displayName":7}""", "displayName must be a string" },
        { """{"role":"patient","displayName":"Ana","email":"a@b"}""", "unknown field 'email'" },
    };

    [Theory]
    [MemberData(nameof(BadInviteBodies))]
    public async Task Bad_invite_body_is_400_naming_the_field(string json, string reason)
    {
        var id = await CreateAsync();
        await AssertStatusAsync(HttpStatusCode.BadRequest, reason, HttpMethod.Post, $"/api/sessions/{id}/invites", json);
    }

    [Fact]
    public async Task Odd_ids_are_404_without_echoing_them()
    {
        await AssertStatusAsync(HttpStatusCode.NotFound, "no such session", HttpMethod.Get, "/api/sessions/%3Cscript%3E");
        await AssertStatusAsync(HttpStatusCode.NotFound, "no such session", HttpMethod.Get, $"/api/sessions/{new string('a', 300)}");
    }

    [Fact]
    public async Task Invalid_utf8_is_400()
    {
        using var http = Client(fixture.Host);
        using var content = new ByteArrayContent([.. "{\"title\":\""u8, 0xFF, 0xFE, .. "\",\"kind\":\"group\"}"u8]);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var response = await http.PostAsync("/api/sessions", content);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("title", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Mutated_bodies_are_answered_201_or_400_never_500()
    {
        var valid = System.Text.Encoding.UTF8.GetBytes("""{"title":"Knee","kind":"one-to-one","waitingRoom":true,"therapistName":"Dr","patientName":"Ana"}""");
        var random = new Random(20260301);
        using var http = Client(fixture.Host);
        var statuses = new HashSet<HttpStatusCode>();
        for (var i = 0; i < 300; i++)
        {
            var body = (byte[])valid.Clone();
            for (var n = random.Next(1, 4); n > 0; n--) body[random.Next(body.Length)] = (byte)random.Next(256);
            if (random.Next(4) == 0) body = body[..random.Next(body.Length)];
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            using var response = await http.PostAsync("/api/sessions", content);
            Assert.True(response.StatusCode is HttpStatusCode.Created or HttpStatusCode.BadRequest,
                $"{(int)response.StatusCode} for {System.Text.Encoding.UTF8.GetString(body)}");
            Assert.NotEqual("", await response.Content.ReadAsStringAsync());
            statuses.Add(response.StatusCode);
        }
        Assert.Contains(HttpStatusCode.BadRequest, statuses);
    }

    [Fact]
    public async Task Second_patient_of_a_one_to_one_session_is_409()
    {
        var id = await CreateAsync("one-to-one");
        await AssertStatusAsync(HttpStatusCode.Conflict, "one patient", HttpMethod.Post, $"/api/sessions/{id}/invites",
            """{"role":"patient","displayName":"Bo"}""");
        using var http = Client(fixture.Host);
        var (status, _, _) = await SendAsync(http, HttpMethod.Post, $"/api/sessions/{id}/invites", """{"role":"observer","displayName":"Mum"}""");
        Assert.Equal(HttpStatusCode.Created, status);
    }

    [Fact]
    public async Task Thirteenth_group_patient_is_409()
    {
        var id = await CreateAsync();
        using var http = Client(fixture.Host);
        for (var i = 0; i < 12; i++)
        {
            var (status, _, _) = await SendAsync(http, HttpMethod.Post, $"/api/sessions/{id}/invites", $$"""{"role":"patient","displayName":"P{{i}}"}""");
            Assert.Equal(HttpStatusCode.Created, status);
        }
        await AssertStatusAsync(HttpStatusCode.Conflict, "12 patients", HttpMethod.Post, $"/api/sessions/{id}/invites",
            """{"role":"patient","displayName":"P12"}""");
    }

    [Fact]
    public async Task Body_must_be_json_and_not_empty()
    {
        await AssertStatusAsync(HttpStatusCode.UnsupportedMediaType, "application/json", HttpMethod.Post, "/api/sessions",
            """{"title":"t","kind":"group"}""", contentType: "text/plain");
        await AssertStatusAsync(HttpStatusCode.BadRequest, "empty", HttpMethod.Post, "/api/sessions", "");
        await AssertStatusAsync(HttpStatusCode.RequestEntityTooLarge, "larger than", HttpMethod.Post, "/api/sessions",
            $$"""{"title":"{{new string('x', 20_000)}}","kind":"group"}""");
    }

    [Fact]
    public async Task Without_a_configured_key_the_api_is_closed_with_503()
    {
        await using var host = await AppHost.StartAsync();
        foreach (var apiKey in new[] { null, "", "anything" })
        {
            using var http = Client(host, apiKey);
            var (status, body, _) = await SendAsync(http, HttpMethod.Post, "/api/sessions", """{"title":"t","kind":"group"}""");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            Assert.Equal("operator API key not configured", body);
        }
    }
}
