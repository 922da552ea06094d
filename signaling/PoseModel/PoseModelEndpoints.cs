using Microsoft.Net.Http.Headers;

namespace TeleRehab.Signaling.PoseModel;

/// <summary>Serves the pose estimator's files under content-hashed URLs and their manifest (docs/pose-format.md,
/// "Getting the estimator onto the phone").</summary>
public static class PoseModelEndpoints
{
    /// <summary>A hashed URL names one content for ever: browsers and proxies may keep it a year without asking again.</summary>
    public const string ImmutableCacheControl = "public, max-age=31536000, immutable";

    /// <summary>The manifest changes when the files do: always revalidated (it is a few hundred bytes).</summary>
    public const string ManifestCacheControl = "no-cache";

    public static IServiceCollection AddPoseModel(this IServiceCollection services) =>
        services.AddSingleton(_ => PoseModelFiles.FromAppFolder());

    public static IEndpointRouteBuilder MapPoseModel(this IEndpointRouteBuilder app)
    {
        app.MapMethods(PoseModelFiles.ManifestPath, [HttpMethods.Get, HttpMethods.Head], (HttpContext context, PoseModelFiles files) =>
        {
            var etag = new EntityTagHeaderValue($"\"{files.Manifest.Version}\"");
            var headers = context.Response.GetTypedHeaders();
            headers.CacheControl = new CacheControlHeaderValue { NoCache = true };
            headers.ETag = etag;
            var ifNoneMatch = context.Request.GetTypedHeaders().IfNoneMatch;
            if (ifNoneMatch.Any(e => e.Compare(etag, useStrongComparison: false)))
                return Results.StatusCode(StatusCodes.Status304NotModified);
            return Results.Bytes(files.ManifestJson, "application/json; charset=utf-8");
        });

        app.MapMethods(PoseModelFiles.PathPrefix + "/{hash}/{name}", [HttpMethods.Get, HttpMethods.Head], async (HttpContext context, PoseModelFiles files) =>
        {
            var file = files.Find(context.Request.Path.Value ?? "");
            if (file is null)
            {
                // An old hash (the package was updated) or a made-up one: never another file's bytes under it.
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }
            var headers = context.Response.Headers;
            headers.CacheControl = ImmutableCacheControl;
            headers.ETag = $"\"{file.Sha256[..PoseModelFiles.HashLength]}\"";
            headers.Vary = HeaderNames.AcceptEncoding;
            context.Response.ContentType = file.ContentType;
            if (context.Request.Headers.IfNoneMatch.ToString().Contains(file.Sha256[..PoseModelFiles.HashLength], StringComparison.Ordinal))
            {
                context.Response.StatusCode = StatusCodes.Status304NotModified;
                return;
            }
            var isHead = HttpMethods.IsHead(context.Request.Method);
            var encoding = PreferredEncoding(context.Request);
            if (encoding is not null)
            {
                var body = encoding == "br" ? file.Brotli : file.Gzip;
                headers.ContentEncoding = encoding;
                context.Response.ContentLength = body.Length;
                if (!isHead) await context.Response.Body.WriteAsync(body, context.RequestAborted);
                return;
            }
            context.Response.ContentLength = file.Bytes;
            if (!isHead) await context.Response.SendFileAsync(file.PhysicalPath, context.RequestAborted);
        });
        return app;
    }

    /// <summary>"br" when the request accepts Brotli, else "gzip" when it accepts gzip, else null (the file as it is).</summary>
    private static string? PreferredEncoding(HttpRequest request)
    {
        bool brotli = false, gzip = false;
        foreach (var value in request.GetTypedHeaders().AcceptEncoding)
        {
            if (value.Quality is 0) continue;
            if (value.Value.Equals("br", StringComparison.OrdinalIgnoreCase)) brotli = true;
            else if (value.Value.Equals("gzip", StringComparison.OrdinalIgnoreCase)) gzip = true;
        }
        return brotli ? "br" : gzip ? "gzip" : null;
    }
}
