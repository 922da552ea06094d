using System.Net.Http.Json;
using System.Text.Json;

namespace TeleRehab.Media.Tests.Support;

/// <summary>The operator REST API as a test uses it: create sessions and invite people.</summary>
public sealed class SessionApiClient(AppHost host, string apiKey) : IDisposable
{
    private readonly HttpClient _http = CreateHttp(host, apiKey);

    private static HttpClient CreateHttp(AppHost host, string apiKey)
    {
        var http = host.CreateClient();
        http.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        return http;
    }

    public sealed record CreatedSession(string Id, string TherapistLink, string? PatientLink, string? ObserverLink);

    public async Task<CreatedSession> CreateAsync(string kind, bool waitingRoom, string title = "Knee rehab")
    {
        using var response = await _http.PostAsJsonAsync("/api/sessions", new { title, kind, waitingRoom });
        var body = await response.Content.ReadAsStringAsync();
        if ((int)response.StatusCode != 201) throw new InvalidOperationException($"create session: {(int)response.StatusCode} {body}");
        using var json = JsonDocument.Parse(body);
        var links = json.RootElement.GetProperty("links");
        return new CreatedSession(json.RootElement.GetProperty("id").GetString()!,
            links.GetProperty("therapist").GetString()!,
            links.TryGetProperty("patient", out var patient) ? patient.GetString() : null,
            links.TryGetProperty("observer", out var observer) ? observer.GetString() : null);
    }

    public async Task<string> InviteAsync(string sessionId, string role, string displayName)
    {
        using var response = await _http.PostAsJsonAsync($"/api/sessions/{sessionId}/invites", new { role, displayName });
        var body = await response.Content.ReadAsStringAsync();
        if ((int)response.StatusCode != 201) throw new InvalidOperationException($"invite: {(int)response.StatusCode} {body}");
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("link").GetString()!;
    }

    public async Task<JsonElement> GetAsync(string sessionId)
    {
        var body = await _http.GetStringAsync($"/api/sessions/{sessionId}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    public void Dispose() => _http.Dispose();
}
