using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using TeleRehab.Media.Tests.Support;
using TeleRehab.Signaling.Sessions;

namespace TeleRehab.Media.Tests.Sessions;

/// <summary>One real host with the operator API open (a known key) for a test class.</summary>
public sealed class SessionApiFixture : IAsyncLifetime
{
    public const string ApiKey = "test-operator-key-0123456789";
    public static readonly byte[] SigningKey = Enumerable.Range(100, 32).Select(i => (byte)i).ToArray();

    public AppHost Host { get; private set; } = null!;

    public async Task InitializeAsync() => Host = await AppHost.StartAsync(
        ("TeleRehab:OperatorApiKey", ApiKey),
        ("TeleRehab:Tokens:SigningKey", Convert.ToBase64String(SigningKey)),
        ("TeleRehab:Tokens:LifetimeHours", "2"));

    public Task DisposeAsync() => Host.DisposeAsync().AsTask();

    public SessionRegistry Registry => Host.Services.GetRequiredService<SessionRegistry>();
}

/// <summary>HTTP helpers shared by the API tests.</summary>
internal static class Http
{
    public static HttpClient Client(AppHost host, string? apiKey = SessionApiFixture.ApiKey)
    {
        var client = host.CreateClient();
        if (apiKey is not null) client.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        return client;
    }

    public static async Task<(HttpStatusCode Status, string Body, HttpResponseMessage Response)> SendAsync(
        HttpClient client, HttpMethod method, string path, string? json = null, string contentType = "application/json")
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        }
        var response = await client.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), response);
    }

    public static JsonElement Json(string body) => JsonDocument.Parse(body).RootElement.Clone();

    /// <summary>The token from a join link (<c>{base}/join#{token}</c>).</summary>
    public static string TokenOf(string link)
    {
        var uri = new Uri(link);
        Assert.Equal("/join", uri.AbsolutePath);
        Assert.Equal("", uri.Query);
        Assert.StartsWith("#", uri.Fragment);
        return uri.Fragment[1..];
    }
}
