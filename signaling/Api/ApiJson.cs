using System.Text.Json;
using System.Text.Json.Serialization;
using TeleRehab.Signaling.Sessions;

namespace TeleRehab.Signaling.Api;

/// <summary>The operator API's JSON: camelCase, case-sensitive names, no unknown or duplicate properties, no
/// comments or trailing commas, enums as exact lowercase strings (never numbers).</summary>
public static class ApiJson
{
    public static readonly JsonSerializerOptions Options = CreateOptions();

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            PropertyNameCaseInsensitive = false,
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
            AllowDuplicateProperties = false,
            AllowTrailingCommas = false,
            ReadCommentHandling = JsonCommentHandling.Disallow,
            NumberHandling = JsonNumberHandling.Strict,
            RespectNullableAnnotations = true,
            MaxDepth = 8,
        };
        options.Converters.Add(new ExactEnumConverter<SessionKind>([(SessionKind.OneToOne, "one-to-one"), (SessionKind.Group, "group")]));
        options.Converters.Add(new ExactEnumConverter<ParticipantRole>([(ParticipantRole.Therapist, "therapist"),
            (ParticipantRole.Patient, "patient"), (ParticipantRole.Observer, "observer")]));
        options.Converters.Add(new ExactEnumConverter<ParticipantState>([(ParticipantState.Invited, "invited"),
            (ParticipantState.Waiting, "waiting"), (ParticipantState.Connected, "connected"), (ParticipantState.Left, "left"),
            (ParticipantState.Reconnecting, "reconnecting")]));
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }

    /// <summary>Reads only the listed strings, exactly (no case folding, no numbers, no "a, b" flag lists).</summary>
    private sealed class ExactEnumConverter<T>((T Value, string Name)[] names) : JsonConverter<T> where T : struct, Enum
    {
        public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType == JsonTokenType.String)
            {
                foreach (var (value, name) in names)
                {
                    if (reader.ValueTextEquals(name)) return value;
                }
            }
            throw new JsonException($"expected one of {string.Join(", ", names.Select(n => $"\"{n.Name}\""))}");
        }

        public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options)
        {
            foreach (var (v, name) in names)
            {
                if (EqualityComparer<T>.Default.Equals(v, value))
                {
                    writer.WriteStringValue(name);
                    return;
                }
            }
            throw new JsonException($"{typeof(T).Name} value {value} has no name");
        }
    }
}

/// <summary>Body of <c>POST /api/sessions</c>.</summary>
public sealed class CreateSessionRequest
{
    public string? Title { get; set; }
    public SessionKind? Kind { get; set; }
    public bool? WaitingRoom { get; set; }
    public string? TherapistName { get; set; }
    public string? PatientName { get; set; }
    public string? Language { get; set; }
}

/// <summary>Body of <c>POST /api/sessions/{id}/invites</c>.</summary>
public sealed class CreateInviteRequest
{
    public ParticipantRole? Role { get; set; }
    public string? DisplayName { get; set; }
}

public sealed record SessionLinks(
    string Therapist,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Patient,
    string Observer);

public sealed record CreateSessionResponse(string Id, SessionKind Kind, SessionLinks Links);

public sealed record CreateInviteResponse(string ParticipantId, ParticipantRole Role, string Link);

public sealed record ParticipantResponse(string Id, string DisplayName, ParticipantRole Role, ParticipantState State, bool Removed);

public sealed record SessionResponse(
    string Id,
    string Title,
    SessionKind Kind,
    bool WaitingRoom,
    bool Locked,
    DateTimeOffset CreatedAt,
    DateTimeOffset? EndedAt,
    IReadOnlyList<ParticipantResponse> Participants,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Language)
{
    public static SessionResponse From(SessionSnapshot s) => new(s.Id, s.Title, s.Kind, s.WaitingRoom, s.Locked, s.CreatedAt, s.EndedAt,
        s.Participants.Select(p => new ParticipantResponse(p.Id, p.DisplayName, p.Role, p.State, p.Removed)).ToList(), s.Language);
}
