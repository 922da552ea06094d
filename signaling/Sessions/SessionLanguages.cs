using System.Text.Json;

namespace TeleRehab.Signaling.Sessions;

/// <summary>One language the pages speak: its code (the catalogue's file name), its name in its own script and its
/// writing direction.</summary>
public sealed record SessionLanguage(string Code, string Name, string Dir);

/// <summary>The languages a session may be given: those the web client has a message catalogue for
/// (client-web/i18n/&lt;code&gt;.json beside the app; docs/client-web.md). Adding a language is adding its file.</summary>
public sealed class SessionLanguages
{
    public const string Default = "en";

    private readonly Dictionary<string, SessionLanguage> _byCode;

    public SessionLanguages(string catalogueDirectory)
    {
        _byCode = new Dictionary<string, SessionLanguage>(StringComparer.Ordinal);
        if (Directory.Exists(catalogueDirectory))
        {
            foreach (var path in Directory.EnumerateFiles(catalogueDirectory, "*.json"))
            {
                var code = Path.GetFileNameWithoutExtension(path);
                if (!IsCode(code)) continue;
                using var catalogue = JsonDocument.Parse(File.ReadAllBytes(path));
                var root = catalogue.RootElement;
                var name = root.TryGetProperty("language.name", out var n) ? n.GetString() ?? code : code;
                var dir = root.TryGetProperty("language.dir", out var d) && d.GetString() == "rtl" ? "rtl" : "ltr";
                _byCode[code] = new SessionLanguage(code, name, dir);
            }
        }
        if (!_byCode.ContainsKey(Default)) _byCode[Default] = new SessionLanguage(Default, "English", "ltr");
    }

    /// <summary>Every language, by code.</summary>
    public IReadOnlyList<SessionLanguage> All => [.. _byCode.Values.OrderBy(l => l.Code, StringComparer.Ordinal)];

    public bool IsKnown(string code) => _byCode.ContainsKey(code);

    private static bool IsCode(string code) => code.Length is 2 or 3 && code.All(char.IsAsciiLetterLower);
}
