using System.Net.Http.Json;
using System.Text.Json;

namespace TeleRehab.LoadTests.Load;

/// <summary>The operator REST API (docs/operator-api.md) as the load generator uses it. Without an API key it uses the
/// demo API instead (<c>POST /api/demo/sessions</c>: a server started with its defaults allows it from its own machine),
/// whose one-to-one sessions have a waiting room and whose group sessions have three patients.</summary>
public sealed class OperatorApi(HttpClient http, string apiKey)
{
    public const int DemoGroupPatients = 3;

    public sealed record Session(string Id, string TherapistLink, string? PatientLink, IReadOnlyList<string> PatientLinks);

    public bool IsDemo => string.IsNullOrEmpty(apiKey);

    public async Task<Session> CreateAsync(string kind, string title, CancellationToken cancel)
    {
        if (IsDemo) return await CreateDemoAsync(kind, cancel).ConfigureAwait(false);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/sessions") { Content = JsonContent.Create(new { title, kind, waitingRoom = false }) };
        request.Headers.Add("X-Api-Key", apiKey);
        using var response = await http.SendAsync(request, cancel).ConfigureAwait(false);
        var body = await response.Content.ReadAsStringAsync(cancel).ConfigureAwait(false);
        if ((int)response.StatusCode != 201) throw new OperatorApiException($"creating a session: {(int)response.StatusCode} {body}");
        using var json = JsonDocument.Parse(body);
        var links = json.RootElement.GetProperty("links");
        var patientLink = links.TryGetProperty("patient", out var patient) ? patient.GetString() : null;
        return new Session(json.RootElement.GetProperty("id").GetString()!, links.GetProperty("therapist").GetString()!, patientLink,
            patientLink is null ? [] : [patientLink]);
    }

    private async Task<Session> CreateDemoAsync(string kind, CancellationToken cancel)
    {
        using var response = await http.PostAsJsonAsync("/api/demo/sessions", new { kind }, cancel).ConfigureAwait(false);
        var body = await response.Content.ReadAsStringAsync(cancel).ConfigureAwait(false);
        if ((int)response.StatusCode != 201) throw new OperatorApiException($"creating a demo session (no --api-key): {(int)response.StatusCode} {body}");
        using var json = JsonDocument.Parse(body);
        var links = json.RootElement.GetProperty("links").EnumerateArray()
            .Select(l => (Role: l.GetProperty("role").GetString(), Link: l.GetProperty("link").GetString()!)).ToList();
        var patients = links.Where(l => l.Role == "patient").Select(l => l.Link).ToList();
        return new Session(json.RootElement.GetProperty("id").GetString()!, links.First(l => l.Role == "therapist").Link, patients.FirstOrDefault(), patients);
    }

    public async Task<string> InviteAsync(string sessionId, string role, string displayName, CancellationToken cancel)
    {
        if (IsDemo) throw new OperatorApiException("inviting needs the operator API key (--api-key)");
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
        if (IsDemo) return; // a demo session ends when everyone has left
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
