using TeleRehab.LoadTests;

// The generator's sockets complete on the runtime's epoll thread instead of a thread-pool hop per datagram: every
// participant's receive loop only hands the datagram to the shared media worker, so one loop carries them all
// (docs/capacity.md, "The generator's own cost"). Set before the first socket; an explicit setting wins.
if (Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") is null)
    Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");

return await LoadTestsCli.RunAsync(args);
