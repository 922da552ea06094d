using TeleRehab.Signaling.Security;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using TeleRehab.Signaling.Sessions;

namespace TeleRehab.Signaling.Api;

/// <summary>The operator REST API under <c>/api/sessions</c> (see docs/operator-api.md). Every call needs the
/// <c>X-Api-Key</c> header; errors are plain text naming the reason, never a 500 for bad input.</summary>
public static class SessionApi
{
    public const string ApiKeyHeader = "X-Api-Key";
    public const int MaxTitleLength = 200;
    public const int MaxDisplayNameLength = 100;
    public const string DefaultTherapistName = "Therapist";
    public const string DefaultPatientName = "Patient";
    public const string DefaultObserverName = "Observer";
    private const int MaxBodyBytes = 16 * 1024;

    public static void MapSessionApi(this WebApplication app)
    {
        var api = app.MapGroup("/api/sessions").AddEndpointFilter(RequireApiKeyAsync);
        api.MapPost("", CreateSessionAsync);
        api.MapGet("/{id}", GetSession);
        api.MapDelete("/{id}", EndSession);
        api.MapPost("/{id}/invites", CreateInviteAsync);
    }

    private static async ValueTask<object?> RequireApiKeyAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var settings = http.RequestServices.GetRequiredService<OperatorApiSettings>();
        if (settings.ApiKey is null) return Problem(StatusCodes.Status503ServiceUnavailable, "operator API key not configured");
        var sent = http.Request.Headers[ApiKeyHeader];
        if (sent.Count == 0 || string.IsNullOrEmpty(sent[0]))
            return Unauthorized($"missing {ApiKeyHeader} header");
        if (sent.Count > 1 || !KeysEqual(sent[0]!, settings.ApiKey))
            return Unauthorized($"wrong {ApiKeyHeader}");
        return await next(context);
    }

    /// <summary>Constant-time in the key's content and length: compares SHA-256 digests.</summary>
    private static bool KeysEqual(string sent, string expected)
    {
        Span<byte> a = stackalloc byte[32];
        Span<byte> b = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(sent), a);
        SHA256.HashData(Encoding.UTF8.GetBytes(expected), b);
        return CryptographicOperations.FixedTimeEquals(a, b);
    }

    private static async Task<IResult> CreateSessionAsync(HttpContext http, SessionRegistry sessions, JoinTokenService tokens, OperatorApiSettings settings,
        SessionLanguages languages)
    {
        var (body, error) = await ReadJsonAsync<CreateSessionRequest>(http);
        if (error is not null) return error;
        // Titles and names are shown to other participants: bidi controls are stripped before anything else.
        var (title, therapistName, patientName) = (DisplayText.Clean(body!.Title), DisplayText.Clean(body.TherapistName), DisplayText.Clean(body.PatientName));
        if (ValidateText("title", title, MaxTitleLength, required: true) is { } titleError) return BadRequest(titleError);
        if (body.Kind is not { } kind) return BadRequest("kind is required: \"one-to-one\" or \"group\"");
        if (ValidateText("therapistName", therapistName, MaxDisplayNameLength, required: false) is { } nameError) return BadRequest(nameError);
        if (ValidateText("patientName", patientName, MaxDisplayNameLength, required: false) is { } patientError) return BadRequest(patientError);
        if (kind == SessionKind.Group && body.PatientName is not null)
            return BadRequest("patientName is for one-to-one sessions: invite a group's patients with POST /api/sessions/{id}/invites");
        if (LanguageError(body.Language, languages) is { } languageError) return BadRequest(languageError);

        var session = sessions.Create(title!, kind, body.WaitingRoom ?? false, body.Language);
        var baseUrl = BaseUrl(http, settings);
        string Invite(ParticipantRole role, string name) => InviteNew(sessions, tokens, baseUrl, session.Id, role, name, session.Language);

        var therapist = Invite(ParticipantRole.Therapist, therapistName is { Length: > 0 } t ? t : DefaultTherapistName);
        var patient = kind == SessionKind.OneToOne ? Invite(ParticipantRole.Patient, patientName ?? DefaultPatientName) : null;
        var observer = Invite(ParticipantRole.Observer, DefaultObserverName);
        return Results.Json(new CreateSessionResponse(session.Id, kind, new SessionLinks(therapist, patient, observer)), ApiJson.Options,
            statusCode: StatusCodes.Status201Created).WithLocation($"{http.Request.PathBase.ToUriComponent()}/api/sessions/{session.Id}");
    }

    private static async Task<IResult> CreateInviteAsync(string id, HttpContext http, SessionRegistry sessions, JoinTokenService tokens, OperatorApiSettings settings)
    {
        if (!sessions.TryGet(id, out _)) return NotFound(id);
        var (body, error) = await ReadJsonAsync<CreateInviteRequest>(http);
        if (error is not null) return error;
        if (body!.Role is not { } role) return BadRequest("role is required: \"patient\" or \"observer\"");
        if (role == ParticipantRole.Therapist)
            return BadRequest("role must be \"patient\" or \"observer\": the therapist link comes with the session");
        var name = DisplayText.Clean(body.DisplayName);
        if (ValidateText("displayName", name, MaxDisplayNameLength, required: true) is { } nameError) return BadRequest(nameError);

        var status = sessions.AddParticipant(id, role, name!, out var participant, out var reason);
        var language = sessions.TryGet(id, out var session) ? session!.Language : null;
        return status switch
        {
            AddParticipantStatus.Added => Results.Json(
                new CreateInviteResponse(participant!.Id, role, JoinLink(BaseUrl(http, settings), tokens.Issue(id, participant.Id, role, name!), language)),
                ApiJson.Options, statusCode: StatusCodes.Status201Created),
            AddParticipantStatus.SessionNotFound => NotFound(id),
            AddParticipantStatus.SessionEnded => Problem(StatusCodes.Status410Gone, reason!),
            _ => Problem(StatusCodes.Status409Conflict, reason!),
        };
    }

    private static IResult GetSession(string id, SessionRegistry sessions) =>
        sessions.TryGet(id, out var session)
            ? Results.Json(SessionResponse.From(session!), ApiJson.Options)
            : NotFound(id);

    private static IResult EndSession(string id, SessionRegistry sessions) => sessions.End(id) switch
    {
        EndSessionStatus.Ended => Results.NoContent(),
        EndSessionStatus.AlreadyEnded => Problem(StatusCodes.Status410Gone, $"session '{id}' has already ended"),
        _ => NotFound(id),
    };

    /// <summary>The join page with the token in the fragment: browsers never send a fragment, so tokens stay out of
    /// server and proxy logs. A session's language goes in the query (<c>?lang=ur</c>): the page opens in it.</summary>
    private static string JoinLink(string baseUrl, string token, string? language) =>
        language is null ? $"{baseUrl}/join#{token}" : $"{baseUrl}/join?lang={language}#{token}";

    /// <summary>Invites a participant to a session just made (which cannot refuse it) and returns the join link.</summary>
    internal static string InviteNew(SessionRegistry sessions, JoinTokenService tokens, string baseUrl, string sessionId, ParticipantRole role, string name,
        string? language = null)
    {
        var status = sessions.AddParticipant(sessionId, role, name, out var participant, out var reason);
        if (status != AddParticipantStatus.Added) throw new InvalidOperationException($"new session refused its {role}: {reason}");
        return JoinLink(baseUrl, tokens.Issue(sessionId, participant!.Id, role, name), language);
    }

    /// <summary>Null when <paramref name="language"/> is absent or one the pages have a catalogue for, else the reason.</summary>
    internal static string? LanguageError(string? language, SessionLanguages languages) =>
        language is null || languages.IsKnown(language) ? null
            : $"language must be one of {Quoted(languages)} (leave it out for the browser's language)";

    private static string Quoted(SessionLanguages languages) => string.Join(", ", languages.All.Select(l => '"' + l.Code + '"'));

    internal static string BaseUrl(HttpContext http, OperatorApiSettings settings)
    {
        if (settings.PublicBaseUrl is { } configured) return configured;
        var request = http.Request;
        return $"{request.Scheme}://{request.Host.ToUriComponent()}{request.PathBase.ToUriComponent()}";
    }

    private static string? ValidateText(string field, string? value, int maxLength, bool required)
    {
        if (value is null) return required ? $"{field} is required" : null;
        var trimmed = value.Trim();
        if (trimmed.Length == 0) return required ? $"{field} must not be empty" : $"{field} must not be blank (leave it out for the default)";
        if (trimmed.Length > maxLength) return $"{field} is longer than {maxLength} characters";
        foreach (var c in trimmed)
        {
            if (char.IsControl(c)) return $"{field} must not contain control characters";
        }
        return null;
    }

    private static async Task<(T? Body, IResult? Error)> ReadJsonAsync<T>(HttpContext http) where T : class
    {
        var request = http.Request;
        if (!request.HasJsonContentType())
            return (null, Problem(StatusCodes.Status415UnsupportedMediaType, "the body must be JSON with Content-Type: application/json"));
        if (request.ContentLength > MaxBodyBytes)
            return (null, Problem(StatusCodes.Status413PayloadTooLarge, $"the body is larger than {MaxBodyBytes} bytes"));

        var buffer = new MemoryStream();
        var chunk = new byte[4096];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, http.RequestAborted)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > MaxBodyBytes)
                return (null, Problem(StatusCodes.Status413PayloadTooLarge, $"the body is larger than {MaxBodyBytes} bytes"));
        }
        if (buffer.Length == 0) return (null, BadRequest("the body is empty: send a JSON object"));

        try
        {
            var body = JsonSerializer.Deserialize<T>(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), ApiJson.Options);
            return body is null ? (null, BadRequest("the body must be a JSON object, not null")) : (body, null);
        }
        catch (JsonException ex)
        {
            return (null, BadRequest(DescribeJsonError(ex)));
        }
    }

    /// <summary>Turns a deserializer error into a reason naming the field, without the CLR type names it carries.</summary>
    private static string DescribeJsonError(JsonException ex)
    {
        // Syntax errors come from the reader (wrapped as the inner exception); type errors do not.
        if (ex.InnerException is JsonException)
            return $"malformed JSON{(ex.LineNumber is { } line ? $" at line {line + 1}, byte {ex.BytePositionInLine + 1}" : "")}";
        var field = ex.Path is { Length: > 2 } path && path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : null;
        var message = ex.Message;
        var unmapped = message.IndexOf("could not be mapped", StringComparison.Ordinal);
        if (unmapped >= 0 && QuotedName(message) is { } unknown) return $"unknown field '{unknown}'";
        if (message.Contains("Duplicate", StringComparison.OrdinalIgnoreCase) && QuotedName(message) is { } duplicate)
            return $"field '{duplicate}' appears more than once";
        return field switch
        {
            "title" => "title must be a string",
            "kind" => "kind must be \"one-to-one\" or \"group\"",
            "waitingRoom" => "waitingRoom must be true or false",
            "therapistName" => "therapistName must be a string",
            "patientName" => "patientName must be a string",
            "role" => "role must be \"patient\" or \"observer\"",
            "displayName" => "displayName must be a string",
            "language" => "language must be a string such as \"en\" or \"ur\"",
            _ when ex.Path == "$" => "the body must be a JSON object",
            _ => field is null ? "malformed JSON" : $"{field} has an invalid value",
        };
    }

    private static string? QuotedName(string message)
    {
        var start = message.IndexOf('\'');
        if (start < 0) return null;
        var end = message.IndexOf('\'', start + 1);
        return end > start + 1 ? message[(start + 1)..end] : null;
    }

    /// <summary>Echoes the id only when it has the shape of one (never reflects arbitrary input).</summary>
    private static IResult NotFound(string id) =>
        Problem(StatusCodes.Status404NotFound, SessionIds.LooksValid(id) ? $"no session '{id}'" : "no such session");

    private static IResult BadRequest(string reason) => Problem(StatusCodes.Status400BadRequest, reason);

    private static IResult Unauthorized(string reason) => Problem(StatusCodes.Status401Unauthorized, reason);

    private static IResult Problem(int status, string reason) => Results.Text(reason, "text/plain", Encoding.UTF8, status);

    private sealed class LocationResult(IResult inner, string location) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.Location = location;
            return inner.ExecuteAsync(httpContext);
        }
    }

    private static IResult WithLocation(this IResult result, string location) => new LocationResult(result, location);
}
