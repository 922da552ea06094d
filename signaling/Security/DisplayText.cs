namespace TeleRehab.Signaling.Security;

/// <summary>Text that other participants see (session titles, display names).</summary>
public static class DisplayText
{
    /// <summary>Removes the Unicode bidirectional formatting characters (embeddings, overrides, isolates and marks:
    /// U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C) and trims. An override such as U+202E makes a name read
    /// backwards or disguises it as another; Urdu and English names need none of them to display correctly.</summary>
    public static string? Clean(string? text)
    {
        if (text is null) return null;
        var span = text.AsSpan();
        if (span.IndexOfAny(BidiControls) < 0) return text.Trim();
        return string.Create(text.Length, text, static (destination, source) =>
        {
            var written = 0;
            foreach (var c in source)
            {
                if (!IsBidiControl(c)) destination[written++] = c;
            }
            destination[written..].Fill(' ');
        }).Trim();
    }

    public static bool IsBidiControl(char c) => c is >= '\u202A' and <= '\u202E' or >= '\u2066' and <= '\u2069' or '\u200E' or '\u200F' or '\u061C';

    private static readonly System.Buffers.SearchValues<char> BidiControls =
        System.Buffers.SearchValues.Create("\u202A\u202B\u202C\u202D\u202E\u2066\u2067\u2068\u2069\u200E\u200F\u061C");
}
