using BenchmarkDotNet.Running;
using TeleRehab.Media.Bench;

// "socket-to-socket": the whole server process measured on the real path (see SocketToSocket); anything else runs
// the BenchmarkDotNet benchmarks of the per-packet stages.
if (args.Length > 0 && args[0] == "socket-to-socket") return await SocketToSocket.RunAsync(args[1..]);
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
