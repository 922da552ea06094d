namespace TeleRehab.Signaling.Security;

/// <summary>Headers on every response: the pages run only the app's own scripts (no inline script), cannot be framed
/// (a therapist's controls in someone else's frame), send no referrer, and are never sniffed as another type.</summary>
public static class SecurityHeaders
{
    /// <summary>'wasm-unsafe-eval' lets the pose estimator compile its WebAssembly; styles may be inline (the pages'
    /// own &lt;style&gt; blocks); media and workers may come from blob: URLs the pages make themselves.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
        "media-src 'self' blob: mediastream:; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; " +
        "form-action 'self'; frame-ancestors 'none'";

    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XFrameOptions = "DENY";
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        headers["Permissions-Policy"] = "camera=(self), microphone=(self), geolocation=(), payment=()";
        headers["Cross-Origin-Opener-Policy"] = "same-origin";
        return next(context);
    });
}
