using System.Net;
using TeleRehab.Signaling.Security;
using TeleRehab.Signaling.Sessions;

namespace TeleRehab.Signaling.Api;

/// <summary>When the demo page may create sessions without the operator key (<c>TeleRehab:Demo:Mode</c>).</summary>
public enum DemoMode
{
    /// <summary>Only for requests from this machine (loopback, not forwarded by a proxy): try the product on one machine.
    /// The default, unless trusted proxies are configured (then <see cref="Off"/>).</summary>
    Local,
    /// <summary>For anyone who can reach the server: only for closed test networks.</summary>
    On,
    Off,
}

/// <summary><c>POST /api/demo/sessions</c>: the demo page's way to start a session with its links, so a new user can
/// try a session on one machine in a minute. Real deployments create sessions with the operator API.</summary>
public static class DemoApi
{
    public const string ModeKey = "TeleRehab:Demo:Mode";

    public sealed record DemoRequest(string? Kind, string? Language = null);

    public sealed record DemoLink(string Role, string Name, string Link);

    public sealed record DemoResponse(string Id, string Kind, IReadOnlyList<DemoLink> Links);

    public static void MapDemoApi(this WebApplication app)
    {
        var text = app.Configuration[ModeKey];
        // Behind a proxy every request may come from loopback: the demo is then off unless configured.
        var mode = app.Services.GetRequiredService<TrustedProxies>().Any ? DemoMode.Off : DemoMode.Local;
        if (!string.IsNullOrEmpty(text) && !Enum.TryParse(text, ignoreCase: true, out mode))
            throw new InvalidOperationException($"{ModeKey} must be local, on or off, not '{text}'.");
        app.MapGet("/api/demo", (HttpContext http) => Results.Json(new { available = Allowed(mode, http) }));
        // The languages the pages speak (the switch on every page lists them).
        app.MapGet("/api/languages", (SessionLanguages languages) => Results.Json(languages.All));
        app.MapPost("/api/demo/sessions", (HttpContext http, DemoRequest? request, SessionRegistry sessions, JoinTokenService tokens, OperatorApiSettings settings,
            SessionLanguages languages) =>
        {
            if (!Allowed(mode, http))
                return Results.Text($"the demo is {(mode == DemoMode.Off ? "turned off" : "only available on the server's own machine")} ({ModeKey}); create sessions with the operator API",
                    "text/plain", statusCode: StatusCodes.Status403Forbidden);
            var kind = request?.Kind switch
            {
                null or "one-to-one" => SessionKind.OneToOne,
                "group" => SessionKind.Group,
                _ => (SessionKind?)null,
            };
            if (kind is null) return Results.Text("kind must be \"one-to-one\" or \"group\"", "text/plain", statusCode: StatusCodes.Status400BadRequest);
            if (SessionApi.LanguageError(request?.Language, languages) is { } languageError)
                return Results.Text(languageError, "text/plain", statusCode: StatusCodes.Status400BadRequest);

            var session = sessions.Create(kind == SessionKind.Group ? "Demo group class" : "Demo session", kind.Value, waitingRoom: kind == SessionKind.OneToOne,
                request?.Language);
            var baseUrl = SessionApi.BaseUrl(http, settings);
            var links = new List<DemoLink>();
            void Invite(ParticipantRole role, string name) =>
                links.Add(new DemoLink(JoinTokenService.RoleName(role), name, SessionApi.InviteNew(sessions, tokens, baseUrl, session.Id, role, name, session.Language)));
            Invite(ParticipantRole.Therapist, "Dr. Ayesha (therapist)");
            if (kind == SessionKind.OneToOne) Invite(ParticipantRole.Patient, "Bilal (patient)");
            else foreach (var name in new[] { "Bilal", "Sana", "Imran" }) Invite(ParticipantRole.Patient, $"{name} (patient)");
            Invite(ParticipantRole.Observer, "Caregiver (observer)");
            return Results.Json(new DemoResponse(session.Id, kind == SessionKind.Group ? "group" : "one-to-one", links), statusCode: StatusCodes.Status201Created);
        });
    }

    private static bool Allowed(DemoMode mode, HttpContext http) => mode switch
    {
        DemoMode.On => true,
        // A forwarded request is never local, whatever address the proxy or its headers give.
        DemoMode.Local => !TrustedProxies.IsForwarded(http.Request) && http.Connection.RemoteIpAddress is { } address && IPAddress.IsLoopback(address),
        _ => false,
    };
}
