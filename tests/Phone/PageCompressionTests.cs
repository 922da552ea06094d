using System.Net;
using System.Net.Http.Headers;
using TeleRehab.Media.Tests.Sessions;

namespace TeleRehab.Media.Tests.Phone;

/// <summary>The pages' own files go compressed to a browser that accepts it (a third of the call page's JavaScript on
/// a 2G phone); the operator API's answers, which carry join tokens, never do.</summary>
public sealed class PageCompressionTests(SessionApiFixture fixture) : IClassFixture<SessionApiFixture>
{
    private static HttpClient Client(Uri baseAddress, string encoding)
    {
        var http = new HttpClient(new HttpClientHandler { AutomaticDecompression = DecompressionMethods.None }) { BaseAddress = baseAddress };
        http.DefaultRequestHeaders.AcceptEncoding.Add(new StringWithQualityHeaderValue(encoding));
        return http;
    }

    [Theory]
    [InlineData("br")]
    [InlineData("gzip")]
    public async Task The_call_pages_script_and_style_go_compressed_and_the_api_does_not(string encoding)
    {
        using var http = Client(fixture.Host.BaseAddress, encoding);
        using var plainHttp = fixture.Host.CreateClient();
        foreach (var file in new[] { "/join.js", "/app.css", "/join" })
        {
            using var response = await http.GetAsync(file);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal([encoding], response.Content.Headers.ContentEncoding);
            var compressed = (await response.Content.ReadAsByteArrayAsync()).Length;
            var plain = (await plainHttp.GetByteArrayAsync(file)).Length;
            Assert.True(compressed < plain * 2 / 3, $"{file}: {compressed} bytes compressed against {plain}");
        }

        http.DefaultRequestHeaders.Add("X-Api-Key", SessionApiFixture.ApiKey);
        using var created = await http.PostAsync("/api/sessions",
            new StringContent("""{"title":"Knee","kind":"one-to-one"}""", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Empty(created.Content.Headers.ContentEncoding);
    }
}
