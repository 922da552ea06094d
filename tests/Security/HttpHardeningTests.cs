using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using TeleRehab.Media.Hosting;
using TeleRehab.Media.Tests.Support;
using TeleRehab.Signaling.Security;
using TeleRehab.Signaling.Sessions;
using Microsoft.Extensions.DependencyInjection;

namespace TeleRehab.Media.Tests.Security;

/// <summary>What every HTTP client meets: security headers on pages, /metrics for GET only, the demo API behind a
/// proxy, bidi controls stripped from names and titles, and HTTP connections per address.</summary>
public sealed class HttpHardeningTests
{
    private const string ApiKey = "http-hardening-test-key";

    [Theory]
    [InlineData("/")]
    [InlineData("/join")]
    [InlineData("/check")]
    [InlineData("/healthz")]
    public async Task Every_page_carries_the_security_headers(string path)
    {
        await using var host = await AppHost.StartAsync();
        using var response = await host.CreateClient().GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var csp = string.Join(";", response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("frame-ancestors 'none'", csp);
        var scriptSrc = csp.Split(';').Select(d => d.Trim()).Single(d => d.StartsWith("script-src ", StringComparison.Ordinal));
        Assert.DoesNotContain("unsafe-inline", scriptSrc);
        Assert.DoesNotContain("'unsafe-eval'", scriptSrc);
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        Assert.Equal("no-referrer", Assert.Single(response.Headers.GetValues("Referrer-Policy")));
        Assert.Equal("DENY", Assert.Single(response.Headers.GetValues("X-Frame-Options")));
    }

    [Fact]
    public async Task The_pages_hold_no_inline_script()
    {
        var root = Path.Combine(AppContext.BaseDirectory, "client-web");
        foreach (var page in Directory.EnumerateFiles(root, "*.html", SearchOption.AllDirectories).Where(p => !p.Contains("vendor", StringComparison.Ordinal)))
        {
            var html = await File.ReadAllTextAsync(page);
            foreach (System.Text.RegularExpressions.Match tag in System.Text.RegularExpressions.Regex.Matches(html, "<script[^>]*>"))
                Assert.Contains("src=", tag.Value);
            Assert.DoesNotMatch(" on[a-z]+=\"", html);
        }
    }

    [Fact]
    public async Task Metrics_answer_GET_only()
    {
        await using var host = await AppHost.StartAsync();
        var http = host.CreateClient();
        using var get = await http.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Contains("telerehab_rooms", await get.Content.ReadAsStringAsync());
        foreach (var method in new[] { HttpMethod.Post, HttpMethod.Put, HttpMethod.Delete, HttpMethod.Patch })
        {
            using var response = await http.SendAsync(new HttpRequestMessage(method, "/metrics") { Content = new StringContent("x") });
            Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        }
    }

    private static async Task<HttpStatusCode> PostDemoAsync(AppHost host, string? forwardedFor)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/demo/sessions") { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
        if (forwardedFor is not null) request.Headers.Add("X-Forwarded-For", forwardedFor);
        using var response = await host.CreateClient().SendAsync(request);
        return response.StatusCode;
    }

    [Fact]
    public async Task The_demo_refuses_what_came_through_a_proxy()
    {
        // No proxy configured: a loopback request is local; one with a forwarding header is not, whatever it says.
        await using (var plain = await AppHost.StartAsync())
        {
            Assert.Equal(HttpStatusCode.Created, await PostDemoAsync(plain, null));
            Assert.Equal(HttpStatusCode.Forbidden, await PostDemoAsync(plain, "127.0.0.1"));
        }

        // Behind a trusted proxy on the same host the demo is off unless configured...
        await using (var proxied = await AppHost.StartAsync(("TeleRehab:Proxy:KnownProxies", "127.0.0.1")))
        {
            Assert.Equal(HttpStatusCode.Forbidden, await PostDemoAsync(proxied, "203.0.113.7"));
            Assert.Equal(HttpStatusCode.Forbidden, await PostDemoAsync(proxied, "127.0.0.1"));
            Assert.Equal(HttpStatusCode.Forbidden, await PostDemoAsync(proxied, null));
        }

        // ...and even set to "local", a request the trusted proxy forwarded is never local, even from a loopback client.
        await using (var local = await AppHost.StartAsync(("TeleRehab:Proxy:KnownProxies", "127.0.0.1"), ("TeleRehab:Demo:Mode", "local")))
        {
            Assert.Equal(HttpStatusCode.Forbidden, await PostDemoAsync(local, "127.0.0.1"));
            Assert.Equal(HttpStatusCode.Forbidden, await PostDemoAsync(local, "203.0.113.7"));
            Assert.Equal(HttpStatusCode.Created, await PostDemoAsync(local, null));
        }
    }

    [Fact]
    public async Task Bad_proxy_settings_stop_start_up_naming_the_key()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => AppHost.StartAsync(("TeleRehab:Proxy:KnownProxies", "proxy.example")));
        Assert.Contains(TrustedProxies.KnownProxiesKey, error.Message);
        var limitError = await Assert.ThrowsAsync<ArgumentException>(() => AppHost.StartAsync(("TeleRehab:Limits:HubCallsPerSecond", "0")));
        Assert.Contains("TeleRehab:Limits:HubCallsPerSecond", limitError.Message);
    }

    [Fact]
    public async Task Titles_and_names_lose_their_bidi_controls()
    {
        await using var host = await AppHost.StartAsync(("TeleRehab:OperatorApiKey", ApiKey));
        var http = host.CreateClient();
        http.DefaultRequestHeaders.Add("X-Api-Key", ApiKey);
        using var created = await http.PostAsync("/api/sessions", new StringContent(
            JsonSerializer.Serialize(new { title = "Knee \u202Egnp.exe\u202C rehab", kind = "one-to-one", therapistName = "\u2067Dr. Ayesha\u2069", patientName = "\u200FBilal" }),
            Encoding.UTF8, "application/json"));
        var body = await created.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
        var registry = host.Services.GetRequiredService<SessionRegistry>();
        Assert.True(registry.TryGet(id, out var session));
        Assert.Equal("Knee gnp.exe rehab", session!.Title);
        Assert.All(session.Participants, p => Assert.DoesNotContain(p.DisplayName, c => DisplayText.IsBidiControl(c)));
        Assert.Contains(session.Participants, p => p.DisplayName == "Dr. Ayesha");

        using var blank = await http.PostAsync($"/api/sessions/{id}/invites", new StringContent(
            JsonSerializer.Serialize(new { role = "observer", displayName = "\u202E\u202C" }), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, blank.StatusCode);
        Assert.Contains("displayName", await blank.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Http_connections_beyond_the_per_address_limit_are_closed_at_once_and_others_are_served()
    {
        await using var host = await AppHost.StartAsync(("TeleRehab:Limits:HttpConnectionsPerAddress", "4"));
        var port = host.BaseAddress.Port;
        var held = new List<Socket>();
        try
        {
            for (var i = 0; i < 4; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                socket.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.9"), 0));
                await socket.ConnectAsync(IPAddress.Loopback, port);
                held.Add(socket);
            }
            // The fifth from the same address is closed before it says anything: the client sees the end of the
            // stream or a reset, and the reset may come so fast that the connect itself reports it.
            using var fifth = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            fifth.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.9"), 0));
            var buffer = new byte[16];
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            int read;
            try
            {
                await fifth.ConnectAsync(IPAddress.Loopback, port);
                read = await fifth.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            }
            catch (SocketException)
            {
                read = 0;
            }
            Assert.Equal(0, read);

            // The held ones still work, and so does another address.
            await held[0].SendAsync(Encoding.ASCII.GetBytes("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"), SocketFlags.None);
            read = await held[0].ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            Assert.StartsWith("HTTP/1.1 200", Encoding.ASCII.GetString(buffer, 0, read));
            Assert.Equal("ok", await host.CreateClient().GetStringAsync("/healthz"));
        }
        finally
        {
            foreach (var socket in held) socket.Dispose();
        }
    }

    [Fact]
    public async Task Near_the_open_file_limit_new_connections_are_refused_and_the_server_keeps_serving()
    {
        // A reserve that leaves the process's budget at its floor of 16 connections, as if the limit were near.
        var reserve = FileDescriptorLimit.RaiseToHard();
        await using var host = await AppHost.StartAsync(("TeleRehab:Limits:FileDescriptorReserve", reserve.ToString()));
        var budget = host.Services.GetRequiredService<ConnectionBudget>();
        var limiter = host.Services.GetRequiredService<TeleRehab.Signaling.Limits.HttpConnectionLimiter>();
        Assert.Equal(16, budget.Capacity);
        var held = new List<Socket>();
        try
        {
            for (var i = 0; i < 40; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                held.Add(socket);
                socket.Bind(new IPEndPoint(IPAddress.Parse($"127.0.1.{i + 1}"), 0));
                try
                {
                    await socket.ConnectAsync(IPAddress.Loopback, host.BaseAddress.Port);
                }
                catch (SocketException)
                {
                    // refused so fast that the connect itself saw the reset
                }
            }
            Assert.True(await RoomClient.RoomTestKit.WaitUntilAsync(() => limiter.RefusedFileDescriptors >= 40 - budget.Capacity, TimeSpan.FromSeconds(30)),
                $"refused {limiter.RefusedFileDescriptors}");
            Assert.InRange(budget.InUse, 0, budget.Capacity);
        }
        finally
        {
            foreach (var socket in held) socket.Dispose();
        }
        // Once the flood is gone the budget is free again and the server answers.
        Assert.True(await RoomClient.RoomTestKit.WaitUntilAsync(() => budget.InUse == 0, TimeSpan.FromSeconds(30)), $"in use {budget.InUse}");
        Assert.Equal("ok", await host.CreateClient().GetStringAsync("/healthz"));
    }
}
