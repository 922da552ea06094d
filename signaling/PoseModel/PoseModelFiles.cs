using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace TeleRehab.Signaling.PoseModel;

/// <summary>The files of the pose estimator (MediaPipe Pose, lite model) that a browser loads, each under a URL
/// that names its content: <c>/pose-model/&lt;first 16 hex digits of its SHA-256&gt;/&lt;file name&gt;</c>. Built once
/// from the files present in one folder (the build output's <c>pose-model/</c>), so a new package version gives new
/// URLs by itself, and a URL once served never changes meaning (it may be cached for a year, immutable).</summary>
public sealed class PoseModelFiles
{
    public const string PathPrefix = "/pose-model";
    public const string ManifestPath = PathPrefix + "/manifest.json";

    /// <summary>Hex digits of the SHA-256 in a URL: 64 bits, plenty to tell versions of the same file apart.</summary>
    public const int HashLength = 16;

    /// <summary>What <c>@mediapipe/pose</c> 0.5.x loads with <c>modelComplexity: 0</c> (checked in Chromium by
    /// <c>PoseModelBrowserTests</c>): its script, the packed-assets loader and its data (the person detector), the
    /// graph, the lite landmark model, and one of the two wasm builds: with SIMD where the browser has WebAssembly
    /// SIMD (every current browser), without otherwise. Not listed, so never served: the full and heavy models, and
    /// the SIMD build's empty .data file, which nothing fetches.</summary>
    public static readonly IReadOnlyList<(string Name, bool? Simd)> LiteModelFiles =
    [
        ("pose.js", null),
        ("pose_solution_packed_assets_loader.js", null),
        ("pose_solution_packed_assets.data", null),
        ("pose_web.binarypb", null),
        ("pose_landmark_lite.tflite", null),
        ("pose_solution_simd_wasm_bin.js", true),
        ("pose_solution_simd_wasm_bin.wasm", true),
        ("pose_solution_wasm_bin.js", false),
        ("pose_solution_wasm_bin.wasm", false),
    ];

    private readonly Dictionary<string, PoseModelFile> _byUrl = new(StringComparer.Ordinal);

    /// <summary>Hashes the files of <see cref="LiteModelFiles"/> found in <paramref name="folder"/> (a missing file is
    /// left out of the manifest; a missing folder gives an empty one).</summary>
    public PoseModelFiles(string folder)
    {
        var files = new List<PoseModelFile>();
        foreach (var (name, simd) in LiteModelFiles)
        {
            var path = Path.Combine(folder, name);
            if (!File.Exists(path)) continue;
            string sha256;
            using (var stream = File.OpenRead(path)) sha256 = Convert.ToHexStringLower(SHA256.HashData(stream));
            var length = new FileInfo(path).Length;
            var file = new PoseModelFile(name, $"{PathPrefix}/{sha256[..HashLength]}/{name}", length, sha256, simd, path, ContentTypeOf(name));
            files.Add(file);
            _byUrl[file.Url] = file;
        }
        Files = files;
        var simdBytes = files.Where(f => f.Simd != false).Sum(f => f.Bytes);
        var noSimdBytes = files.Where(f => f.Simd != true).Sum(f => f.Bytes);
        // The manifest's own version: a digest of every file's URL, so a page (and the service worker) can tell a
        // new set of files from the one it stored without comparing lists.
        var version = Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(string.Join('\n', files.Select(f => f.Url)))))[..HashLength];
        Manifest = new PoseModelManifest(1, version, files.Select(f => new PoseModelManifestFile(f.Name, f.Url, f.Bytes, f.Sha256, f.Simd)).ToList(),
            simdBytes, noSimdBytes);
        ManifestJson = JsonSerializer.SerializeToUtf8Bytes(Manifest, ManifestJsonContext.Default.PoseModelManifest);
    }

    /// <summary>The files in <c>pose-model/</c> beside the app (copied there by client-web.targets).</summary>
    public static PoseModelFiles FromAppFolder() => new(Path.Combine(AppContext.BaseDirectory, "pose-model"));

    public IReadOnlyList<PoseModelFile> Files { get; }

    public PoseModelManifest Manifest { get; }

    /// <summary>The manifest as served (UTF-8 JSON).</summary>
    public byte[] ManifestJson { get; }

    /// <summary>The file whose hashed URL is <paramref name="path"/>, or null (an old or made-up hash, another name).</summary>
    public PoseModelFile? Find(string path) => _byUrl.GetValueOrDefault(path);

    private static string ContentTypeOf(string name) => Path.GetExtension(name) switch
    {
        ".js" => "text/javascript; charset=utf-8",
        ".wasm" => "application/wasm", // WebAssembly.instantiateStreaming needs it
        _ => "application/octet-stream",
    };
}

/// <summary>One served file. <see cref="Simd"/>: true/false when only browsers with/without WebAssembly SIMD load
/// it, null when every browser does.</summary>
public sealed class PoseModelFile(string name, string url, long bytes, string sha256, bool? simd, string path, string contentType)
{
    private readonly Lazy<byte[]> _gzip = new(() => Compress(path, output => new GZipStream(output, CompressionLevel.SmallestSize, leaveOpen: true)));
    private readonly Lazy<byte[]> _brotli = new(() => CompressBrotli(path));

    public string Name { get; } = name;
    public string Url { get; } = url;
    public long Bytes { get; } = bytes;
    public string Sha256 { get; } = sha256;
    public bool? Simd { get; } = simd;
    public string PhysicalPath { get; } = path;
    public string ContentType { get; } = contentType;

    /// <summary>The file gzipped at the smallest size (made on first use, then kept): the wasm shrinks to under a third
    /// on the wire; the models, which are mostly weights, by a tenth to a fifth.</summary>
    public byte[] Gzip => _gzip.Value;

    /// <summary>The file in Brotli (browsers ask for it over HTTPS only), about 6 % smaller in all than gzip.</summary>
    public byte[] Brotli => _brotli.Value;

    /// <summary>Brotli quality 5 with a 16 MB window: about half a second for all the files, where the best quality
    /// (11) takes about a minute of CPU for 8 % less.</summary>
    public const int BrotliQuality = 5;
    public const int BrotliWindow = 24;

    private static byte[] Compress(string path, Func<Stream, Stream> compressor)
    {
        using var output = new MemoryStream();
        using (var compressing = compressor(output))
        using (var input = File.OpenRead(path))
        {
            input.CopyTo(compressing);
        }
        return output.ToArray();
    }

    private static byte[] CompressBrotli(string path)
    {
        var source = File.ReadAllBytes(path);
        using var encoder = new BrotliEncoder(BrotliQuality, BrotliWindow);
        var destination = new byte[BrotliEncoder.GetMaxCompressedLength(source.Length)];
        var status = encoder.Compress(source, destination, out _, out var written, isFinalBlock: true);
        if (status != System.Buffers.OperationStatus.Done) throw new InvalidOperationException($"brotli: {status}");
        return destination.AsSpan(0, written).ToArray();
    }
}

/// <summary>GET /pose-model/manifest.json: what the pages read to find, size and store the estimator's files.
/// <see cref="TotalBytes"/> is the first download of a browser with WebAssembly SIMD, <see cref="TotalBytesWithoutSimd"/>
/// of one without (the sizes are of the files; gzip makes the transfer smaller).</summary>
public sealed record PoseModelManifest(
    int Format, string Version, IReadOnlyList<PoseModelManifestFile> Files, long TotalBytes, long TotalBytesWithoutSimd);

public sealed record PoseModelManifestFile(
    string Name, string Url, long Bytes, string Sha256,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] bool? Simd);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(PoseModelManifest))]
internal sealed partial class ManifestJsonContext : JsonSerializerContext;
