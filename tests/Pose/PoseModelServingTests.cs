using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using TeleRehab.Media.Tests.Support;
using TeleRehab.Signaling.PoseModel;

namespace TeleRehab.Media.Tests.Pose;

/// <summary>The pose estimator's files under content-hashed, immutable URLs and their manifest
/// (signaling/PoseModel, docs/pose-format.md "Getting the estimator onto the phone").</summary>
public sealed class PoseModelServingTests : IAsyncLifetime
{
    private AppHost _host = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _host = await AppHost.StartAsync();
        _http = _host.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _host.DisposeAsync();
    }

    private static string AppModelFolder => Path.Combine(AppContext.BaseDirectory, "pose-model");

    private async Task<JsonElement> ManifestAsync()
    {
        using var response = await _http.GetAsync(PoseModelFiles.ManifestPath);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("no-cache", response.Headers.CacheControl?.ToString());
        return JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync()).RootElement.Clone();
    }

    [Fact]
    public async Task Manifest_lists_exactly_the_lite_model_files_with_their_sizes_and_totals()
    {
        var manifest = await ManifestAsync();
        Assert.Equal(1, manifest.GetProperty("format").GetInt32());
        var files = manifest.GetProperty("files").EnumerateArray().ToList();
        // Exactly what the lite path loads, and everything the build put in pose-model/ (no other file is there).
        Assert.Equal(PoseModelFiles.LiteModelFiles.Select(f => f.Name).Order(), files.Select(f => f.GetProperty("name").GetString()!).Order());
        Assert.Equal(Directory.EnumerateFiles(AppModelFolder).Select(Path.GetFileName).Order(), files.Select(f => f.GetProperty("name").GetString()).Order());
        Assert.DoesNotContain(files, f => f.GetProperty("name").GetString()!.Contains("full") || f.GetProperty("name").GetString()!.Contains("heavy"));

        long simdTotal = 0, noSimdTotal = 0;
        foreach (var file in files)
        {
            var name = file.GetProperty("name").GetString()!;
            var bytes = await File.ReadAllBytesAsync(Path.Combine(AppModelFolder, name));
            Assert.Equal(bytes.LongLength, file.GetProperty("bytes").GetInt64());
            var sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes));
            Assert.Equal(sha256, file.GetProperty("sha256").GetString());
            Assert.Equal($"/pose-model/{sha256[..16]}/{name}", file.GetProperty("url").GetString());
            var simd = file.TryGetProperty("simd", out var s) ? s.GetBoolean() : (bool?)null;
            Assert.Equal(name.Contains("wasm_bin") ? name.Contains("simd") : null, simd);
            if (simd != false) simdTotal += bytes.LongLength;
            if (simd != true) noSimdTotal += bytes.LongLength;
        }
        Assert.Equal(simdTotal, manifest.GetProperty("totalBytes").GetInt64());
        Assert.Equal(noSimdTotal, manifest.GetProperty("totalBytesWithoutSimd").GetInt64());
        Assert.InRange(simdTotal, 5_000_000, 15_000_000);
    }

    [Fact]
    public async Task Every_listed_file_is_served_at_its_url_immutable_with_the_listed_bytes_plain_gzip_or_brotli()
    {
        var manifest = await ManifestAsync();
        using var plain = new HttpClient(new SocketsHttpHandler { AutomaticDecompression = DecompressionMethods.None }) { BaseAddress = _host.BaseAddress };
        foreach (var file in manifest.GetProperty("files").EnumerateArray())
        {
            var url = file.GetProperty("url").GetString()!;
            var name = file.GetProperty("name").GetString()!;
            foreach (var encoding in new[] { "", "gzip", "gzip, br" })
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, url);
                if (encoding != "") request.Headers.TryAddWithoutValidation("Accept-Encoding", encoding);
                using var response = await plain.SendAsync(request);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Equal("public, max-age=31536000, immutable", string.Join(", ", response.Headers.GetValues("Cache-Control")));
                Assert.Contains("Accept-Encoding", response.Headers.Vary);
                Assert.Equal(name.EndsWith(".wasm") ? "application/wasm" : name.EndsWith(".js") ? "text/javascript" : "application/octet-stream",
                    response.Content.Headers.ContentType?.MediaType);
                var body = await response.Content.ReadAsByteArrayAsync();
                var expected = encoding switch { "" => null, "gzip" => "gzip", _ => "br" };
                Assert.Equal(expected, response.Content.Headers.ContentEncoding.SingleOrDefault());
                if (expected is not null)
                {
                    using var decompressed = new MemoryStream();
                    await using (Stream stream = expected == "gzip"
                        ? new GZipStream(new MemoryStream(body), CompressionMode.Decompress)
                        : new BrotliStream(new MemoryStream(body), CompressionMode.Decompress))
                    {
                        await stream.CopyToAsync(decompressed);
                    }
                    if (name.EndsWith(".wasm")) Assert.True(body.Length < decompressed.Length / 2, $"{name}: {expected} {body.Length} of {decompressed.Length}");
                    body = decompressed.ToArray();
                }
                Assert.Equal(file.GetProperty("bytes").GetInt64(), body.LongLength);
                Assert.Equal(file.GetProperty("sha256").GetString(), Convert.ToHexStringLower(SHA256.HashData(body)));
            }
        }
    }

    [Theory]
    [InlineData("/pose-model/0000000000000000/pose.js")]           // a made-up hash
    [InlineData("/pose-model/{hash}/pose_web.binarypb")]            // pose.js's hash with another file's name
    [InlineData("/pose-model/{hash}/pose_landmark_full.tflite")]    // not a file of the lite path
    [InlineData("/pose-model/{HASH}/pose.js")]                      // the hash in capitals
    [InlineData("/pose-model/{hash}x/pose.js")]
    [InlineData("/pose-model/pose.js")]
    [InlineData("/pose-model/{hash}/../pose-model/pose.js")]
    public async Task A_wrong_or_unhashed_url_is_404(string template)
    {
        var manifest = await ManifestAsync();
        var poseJs = manifest.GetProperty("files").EnumerateArray().Single(f => f.GetProperty("name").GetString() == "pose.js");
        var hash = poseJs.GetProperty("url").GetString()!.Split('/')[2];
        var path = template.Replace("{hash}", hash).Replace("{HASH}", hash.ToUpperInvariant());
        using var response = await _http.GetAsync(path);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Null(response.Headers.CacheControl?.MaxAge);
    }

    [Fact]
    public async Task Manifest_answers_304_to_its_etag()
    {
        using var first = await _http.GetAsync(PoseModelFiles.ManifestPath);
        var etag = first.Headers.ETag;
        Assert.NotNull(etag);
        using var request = new HttpRequestMessage(HttpMethod.Get, PoseModelFiles.ManifestPath);
        request.Headers.IfNoneMatch.Add(etag);
        using var second = await _http.SendAsync(request);
        Assert.Equal(HttpStatusCode.NotModified, second.StatusCode);
    }

    [Fact]
    public async Task Hashed_urls_are_stable_for_the_same_content_and_change_with_it()
    {
        var a = Directory.CreateTempSubdirectory("telerehab-model-a-").FullName;
        var b = Directory.CreateTempSubdirectory("telerehab-model-b-").FullName;
        try
        {
            foreach (var (name, _) in PoseModelFiles.LiteModelFiles)
            {
                var source = Path.Combine(AppModelFolder, name);
                File.Copy(source, Path.Combine(a, name));
                File.Copy(source, Path.Combine(b, name));
            }
            var app = PoseModelFiles.FromAppFolder();
            var first = new PoseModelFiles(a);
            var again = new PoseModelFiles(a);
            var elsewhere = new PoseModelFiles(b);
            Assert.Equal(app.Files.Select(f => f.Url), first.Files.Select(f => f.Url));
            Assert.Equal(first.Files.Select(f => f.Url), again.Files.Select(f => f.Url));
            Assert.Equal(first.Files.Select(f => f.Url), elsewhere.Files.Select(f => f.Url));
            Assert.Equal(first.ManifestJson, elsewhere.ManifestJson);

            // One file changes: its URL changes, the others' do not, and the manifest's version changes.
            await File.AppendAllTextAsync(Path.Combine(b, "pose_web.binarypb"), "\n");
            var changed = new PoseModelFiles(b);
            foreach (var (before, after) in first.Files.Zip(changed.Files))
            {
                if (before.Name == "pose_web.binarypb") Assert.NotEqual(before.Url, after.Url);
                else Assert.Equal(before.Url, after.Url);
            }
            Assert.NotEqual(first.Manifest.Version, changed.Manifest.Version);

            // An app serving the changed files answers 404 for the old URL of the changed file, 200 for the new one.
            await using var host = await AppHost.StartAsync(builder => builder.Services.AddSingleton(changed));
            using var http = host.CreateClient();
            var oldUrl = first.Files.Single(f => f.Name == "pose_web.binarypb").Url;
            var newUrl = changed.Files.Single(f => f.Name == "pose_web.binarypb").Url;
            Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(oldUrl)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(newUrl)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(first.Files.Single(f => f.Name == "pose.js").Url)).StatusCode);
        }
        finally
        {
            Directory.Delete(a, recursive: true);
            Directory.Delete(b, recursive: true);
        }
    }

    [Fact]
    public void A_missing_folder_gives_an_empty_manifest()
    {
        var files = new PoseModelFiles(Path.Combine(Path.GetTempPath(), "telerehab-no-such-model-folder"));
        Assert.Empty(files.Files);
        Assert.Equal(0, files.Manifest.TotalBytes);
        Assert.Null(files.Find("/pose-model/0000000000000000/pose.js"));
    }
}
