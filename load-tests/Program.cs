using TeleRehab.LoadTests;

return await LoadTestsCli.RunAsync(args);
