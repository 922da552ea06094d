namespace TeleRehab.Signaling.Api;

/// <summary>The operator API's configuration: <c>TeleRehab:OperatorApiKey</c> and <c>TeleRehab:PublicBaseUrl</c>.</summary>
public sealed class OperatorApiSettings
{
    public const string ApiKeyKey = "TeleRehab:OperatorApiKey";
    public const string PublicBaseUrlKey = "TeleRehab:PublicBaseUrl";

    /// <summary>The shared secret callers send in <c>X-Api-Key</c>; null: the API is closed (503).</summary>
    public string? ApiKey { get; init; }

    /// <summary>Origin (and optional path) that join links start with, e.g. https://rehab.example.org; null: the request's own.</summary>
    public string? PublicBaseUrl { get; init; }

    public static OperatorApiSettings From(IConfiguration configuration)
    {
        var key = configuration[ApiKeyKey];
        var baseUrl = configuration[PublicBaseUrlKey];
        string? normalized = null;
        if (!string.IsNullOrWhiteSpace(baseUrl))
        {
            if (!Uri.TryCreate(baseUrl.Trim(), UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp)
                || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment))
                throw new InvalidOperationException($"{PublicBaseUrlKey} must be an absolute http(s) URL without query or fragment, not '{baseUrl}'.");
            normalized = uri.GetLeftPart(UriPartial.Path).TrimEnd('/');
        }
        return new OperatorApiSettings { ApiKey = string.IsNullOrEmpty(key) ? null : key, PublicBaseUrl = normalized };
    }
}
