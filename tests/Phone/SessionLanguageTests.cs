using System.Net;
using TeleRehab.Media.Tests.Sessions;
using static TeleRehab.Media.Tests.Sessions.Http;

namespace TeleRehab.Media.Tests.Phone;

/// <summary>The operator API's session language: the links open the pages in it (<c>/join?lang=ur#token</c>), invites
/// made later too; a language the pages have no catalogue for is a 400 naming the known ones.</summary>
public sealed class SessionLanguageTests(SessionApiFixture fixture) : IClassFixture<SessionApiFixture>
{
    [Fact]
    public async Task A_session_in_Urdu_has_links_that_open_in_Urdu()
    {
        using var http = Client(fixture.Host);
        var (status, body, _) = await SendAsync(http, HttpMethod.Post, "/api/sessions",
            """{"title":"Knee","kind":"one-to-one","language":"ur"}""");
        Assert.Equal(HttpStatusCode.Created, status);
        var created = Json(body);
        var links = created.GetProperty("links");
        foreach (var role in new[] { "therapist", "patient", "observer" })
        {
            var link = new Uri(links.GetProperty(role).GetString()!);
            Assert.Equal("/join", link.AbsolutePath);
            Assert.Equal("?lang=ur", link.Query);
            Assert.StartsWith("#", link.Fragment);
        }
        var id = created.GetProperty("id").GetString()!;
        var (_, session, _) = await SendAsync(http, HttpMethod.Get, $"/api/sessions/{id}");
        Assert.Equal("ur", Json(session).GetProperty("language").GetString());

        // A group's invite, made later, opens in the session's language too.
        var (_, group, _) = await SendAsync(http, HttpMethod.Post, "/api/sessions", """{"title":"Class","kind":"group","language":"ur"}""");
        var groupId = Json(group).GetProperty("id").GetString()!;
        var (inviteStatus, invite, _) = await SendAsync(http, HttpMethod.Post, $"/api/sessions/{groupId}/invites",
            """{"role":"patient","displayName":"Sana"}""");
        Assert.Equal(HttpStatusCode.Created, inviteStatus);
        Assert.Equal("?lang=ur", new Uri(Json(invite).GetProperty("link").GetString()!).Query);

        // Without a language the links are as before (the page follows the browser), and the session says none.
        var (_, plain, _) = await SendAsync(http, HttpMethod.Post, "/api/sessions", """{"title":"Hip","kind":"one-to-one"}""");
        Assert.Equal("", new Uri(Json(plain).GetProperty("links").GetProperty("patient").GetString()!).Query);
        var (_, plainSession, _) = await SendAsync(http, HttpMethod.Get, $"/api/sessions/{Json(plain).GetProperty("id").GetString()}");
        Assert.False(Json(plainSession).TryGetProperty("language", out _));
    }

    [Theory]
    [InlineData("\"xx\"", "language must be one of \"en\", \"ur\"")]
    [InlineData("\"UR\"", "language must be one of")]
    [InlineData("\"../en\"", "language must be one of")]
    [InlineData("42", "language must be a string")]
    public async Task An_unknown_language_is_a_400_naming_the_known_ones(string language, string reason)
    {
        using var http = Client(fixture.Host);
        var (status, body, response) = await SendAsync(http, HttpMethod.Post, "/api/sessions",
            $$"""{"title":"Knee","kind":"one-to-one","language":{{language}}}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(reason, body);
        Assert.DoesNotContain("\"id\"", body);
    }

    [Fact]
    public async Task The_pages_list_the_languages_they_have_a_catalogue_for()
    {
        using var http = fixture.Host.CreateClient();
        var languages = Json(await http.GetStringAsync("/api/languages")).EnumerateArray()
            .ToDictionary(l => l.GetProperty("code").GetString()!, l => (Name: l.GetProperty("name").GetString(), Dir: l.GetProperty("dir").GetString()));
        Assert.Equal(("English", "ltr"), languages["en"]);
        Assert.Equal(("اردو", "rtl"), languages["ur"]);
        // Each is served, with the font the Urdu pages use.
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/i18n/ur.json")).StatusCode);
        var font = await http.GetAsync("/vendor/fonts/noto-naskh-arabic-400.woff2");
        Assert.Equal(HttpStatusCode.OK, font.StatusCode);
        Assert.Equal("font/woff2", font.Content.Headers.ContentType?.MediaType);
    }
}
