using System.Net.Http.Json;
using System.Text.Json;

namespace TeleRehab.LoadTests.Load;

/// <summary>The operator REST API (docs/operator-api.md) as the load generator uses it.</summary>
public sealed class OperatorApi(HttpClient http, string apiKey)
{
    public sealed record Session(string Id, string TherapistLink, string? PatientLink);

    public async Task<Session> CreateAsync(string kind, string title, CancellationToken cancel)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/sessions") { Content = JsonContent.Create(new { title, kind, waitingRoom = false }) };
        request.Headers.Add("X-Api-Key", apiKey);
        using var response = await http.SendAsync(request, cancel).ConfigureAwait(false);
        var body = await response.Content.ReadAsStringAsync(cancel).ConfigureAwait(false);
        if ((int)response.StatusCode != 201) throw new OperatorApiException($"creating a session: {(int)response.StatusCode} {body}");
        using var json = JsonDocument.Parse(body);
        var links = json.RootElement.GetProperty("links");
        return new Session(json.RootElement.GetProperty("id").GetString()!, links.GetProperty("therapist").GetString()!,
            links.TryGetProperty("patient", out var patient) ? patient.GetString() : null);
    }

    public async Task<string> InviteAsync(string sessionId, string role, string displayName, CancellationToken cancel)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/sessions/{sessionId}/invites") { Content = JsonContent.Create(new { role, displayName }) };
        request.Headers.Add("X-Api-Key", apiKey);
        using var response = await http.SendAsync(request, cancel).ConfigureAwait(false);
        var body = await response.Content.ReadAsStringAsync(cancel).ConfigureAwait(false);
        if ((int)response.StatusCode != 201) throw new OperatorApiException($"inviting a {role}: {(int)response.StatusCode} {body}");
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("link").GetString()!;
    }

    public async Task EndAsync(string sessionId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, $"/api/sessions/{sessionId}");
        request.Headers.Add("X-Api-Key", apiKey);
        try
        {
            using var response = await http.SendAsync(request).ConfigureAwait(false);
        }
        catch (HttpRequestException)
        {
            // the session ends by itself when everyone has left
        }
    }
}

public sealed class OperatorApiException(string message) : Exception(message);
