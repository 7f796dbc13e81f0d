using System.Text.Json;
using Gryphgen.Core.Agents;

namespace Gryphgen.Core.Tests.Agents;

/// <summary>The pieces Start-GryphAgent -LlamaServer and -Ollama are built from, each alone.</summary>
public sealed class ServerBackendPartsTests
{
    [Theory]
    [InlineData("-ngl 33 -c 8192 -fa on", new[] { "-ngl", "33", "-c", "8192", "-fa", "on" })]
    [InlineData("  -ngl  2\t-c 4096 ", new[] { "-ngl", "2", "-c", "4096" })]
    [InlineData("-md \"/models/my draft.gguf\" -ngld 99", new[] { "-md", "/models/my draft.gguf", "-ngld", "99" })]
    [InlineData("-md '/a b/c.gguf'", new[] { "-md", "/a b/c.gguf" })]
    [InlineData("-md \"/a \\\"q\\\"/c.gguf\"", new[] { "-md", "/a \"q\"/c.gguf" })]
    [InlineData("--alias \"\"", new[] { "--alias", "" })]
    [InlineData("$(rm -rf /) `x`", new[] { "$(rm", "-rf", "/)", "`x`" })] // nothing is expanded or run
    public void CommandLineWords_SplitsAsAShellWouldWithoutExpandingAnything(string line, string[] expected) =>
        Assert.Equal(expected, CommandLineWords.Split(line));

    [Fact]
    public void CommandLineWords_RefusesAnUnbalancedQuote()
    {
        var error = Assert.Throws<GryphgenException>(() => CommandLineWords.Split("-md \"/open"));
        Assert.Equal("CommandLineUnbalancedQuote", error.ErrorId);
    }

    [Fact]
    public void Ollama_SendsThePlansOptionsWithEveryRequest_WithoutStreaming()
    {
        using var backend = new OllamaChatBackend(new Uri("http://127.0.0.1:11434"), "llama3.2:3b", new Dictionary<string, int> { ["num_gpu"] = 29, ["num_ctx"] = 8192 }) { MaxTokens = 64 };
        using var body = JsonDocument.Parse(backend.BuildRequestBody([new ChatTurn(ChatRole.System, "Be brief."), new ChatTurn(ChatRole.User, "Hi")]));
        var root = body.RootElement;
        Assert.Equal("http://127.0.0.1:11434/api/chat", backend.ChatUri.ToString());
        Assert.Equal("llama3.2:3b", root.GetProperty("model").GetString());
        Assert.False(root.GetProperty("stream").GetBoolean());
        Assert.Equal(29, root.GetProperty("options").GetProperty("num_gpu").GetInt32());
        Assert.Equal(8192, root.GetProperty("options").GetProperty("num_ctx").GetInt32());
        Assert.Equal(64, root.GetProperty("options").GetProperty("num_predict").GetInt32());
        Assert.Equal(["system", "user"], root.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("role").GetString()));
    }

    [Theory]
    [InlineData(ChatErrorKind.BackendFailed, "GryphAgentBackendFailed")]
    [InlineData(ChatErrorKind.BackendUnavailable, "GryphAgentBackendUnavailable")]
    [InlineData(ChatErrorKind.ModelNotFound, "GryphAgentBackendModelNotFound")]
    [InlineData(ChatErrorKind.Timeout, "GryphAgentBackendTimeout")]
    public void BackendErrorIds_NeverSayBackendTwice(string kind, string errorId) =>
        Assert.Equal(errorId, new ChatBackendException(kind, "x").ErrorId);

    [SkippableFact]
    public void ChildProcessLauncher_KeepsAChildWhoseStartingThreadEnded_AndTheChildDiesWithThisProcessOnly()
    {
        // PR_SET_PDEATHSIG fires when the thread that forked the child ends: a child started from a short-lived
        // thread must still be running after that thread is gone.
        Skip.If(ChildProcessLauncher.DeathSignalWrapper is null, "util-linux's setpriv is not on PATH");
        System.Diagnostics.Process? child = null;
        var starter = new Thread(() => child = ChildProcessLauncher.Start("sleep", ["30"]));
        starter.Start();
        starter.Join();
        try
        {
            Assert.NotNull(child);
            Assert.False(child.WaitForExit(500), "the child died when the thread that asked for it ended");
        }
        finally
        {
            child?.Kill();
            child?.WaitForExit();
        }
    }

    [Fact]
    public void LogRotation_MovesOnlyALogPastTheLimit_AndNeverFollowsASymlink()
    {
        var folder = Directory.CreateTempSubdirectory("gryph-rotate-").FullName;
        try
        {
            var log = Path.Combine(folder, "a.agent.log");
            File.WriteAllBytes(log, new byte[100]);
            Assert.False(LogRotation.RotateIfLarge(log, maxBytes: 100));
            File.WriteAllBytes(log, new byte[101]);
            Assert.True(LogRotation.RotateIfLarge(log, maxBytes: 100));
            Assert.False(File.Exists(log));
            Assert.Equal(101, new FileInfo(log + ".1").Length);

            var target = Path.Combine(folder, "elsewhere");
            File.WriteAllBytes(target, new byte[500]);
            var link = Path.Combine(folder, "b.agent.log");
            File.CreateSymbolicLink(link, target);
            Assert.False(LogRotation.RotateIfLarge(link, maxBytes: 100));
            Assert.True(File.Exists(target));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}

public sealed class LlamaServerArgumentsTests
{
    [Fact]
    public void APlansWordsComeAfterTheModel_ThenThePassThrough()
    {
        var arguments = LlamaServerArguments.Build("/m/a b.gguf", "-ngl 33 -c 8192 -fa on -md \"/m/draft 1.gguf\" -ngld 99", null, null, ["--threads", "8"]);
        Assert.Equal(["-m", "/m/a b.gguf", "-ngl", "33", "-c", "8192", "-fa", "on", "-md", "/m/draft 1.gguf", "-ngld", "99", "--threads", "8"], arguments);
    }

    [Fact]
    public void LayersAndContextTheUserGaveReplaceThePlans()
    {
        var arguments = LlamaServerArguments.Build("/m.gguf", "-ngl 33 -c 8192 -fa on", 10, 2048, null);
        Assert.Equal(["-m", "/m.gguf", "-ngl", "10", "-c", "2048", "-fa", "on"], arguments);
    }

    [Fact]
    public void WithoutAPlan_OnlyWhatWasGivenIsPassed()
    {
        Assert.Equal(["-m", "/m.gguf"], LlamaServerArguments.Build("/m.gguf", null, null, null, null));
        Assert.Equal(["-m", "/m.gguf", "-ngl", "0", "-c", "512"], LlamaServerArguments.Build("/m.gguf", null, 0, 512, []));
    }
}
