using Gryphgen.Core.Gguf;

namespace Gryphgen.PowerShell.Tests;

/// <summary>Find-GgufModel in an in-process runspace: binding, filters, error records.</summary>
public sealed class FindGgufModelCommandTests : IDisposable
{
    private readonly PowerShellHost _host = new();
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("gryphgen-find-ps-");

    public void Dispose()
    {
        _host.Dispose();
        _dir.Delete(recursive: true);
    }

    private string Model(string name)
    {
        var path = Path.Combine(_dir.FullName, name);
        GgufModelBuilder.Write(new GgufModelShape { Name = name, VocabularySize = 300, BlockCount = 1, EmbeddingLength = 256, FeedForwardLength = 256, FileType = "Q8_0" }, path);
        return path;
    }

    [SkippableFact]
    public void FindGgufModel_SharedFolder_EmitsGgufModels()
    {
        var folder = SharedTestData.Folder("gguf");
        var (output, shell) = _host.Run($"Find-GgufModel -Path '{folder}' -MaxAge 36500 -Architecture llama");
        Assert.False(shell.HadErrors);
        Assert.Equal(3, output.Count);
        Assert.All(output, o => Assert.IsType<GgufModel>(o.BaseObject));
    }

    [Fact]
    public void FindGgufModel_TextFileNamedGguf_WritesGgufNotGgufAndGoesOn()
    {
        Model("real.gguf");
        File.WriteAllText(Path.Combine(_dir.FullName, "x.gguf"), "hello");
        var (output, shell) = _host.Run($"Find-GgufModel -Path '{_dir.FullName}'");
        Assert.Equal("real.gguf", Assert.IsType<GgufModel>(Assert.Single(output).BaseObject).Name);
        var error = Assert.Single(shell.Streams.Error);
        Assert.StartsWith("GgufNotGguf,", error.FullyQualifiedErrorId, StringComparison.Ordinal);
        Assert.Equal(System.Management.Automation.ErrorCategory.InvalidData, error.CategoryInfo.Category);
        Assert.Equal(Path.Combine(_dir.FullName, "x.gguf"), error.TargetObject);
    }

    [Theory]
    [InlineData("-MaxAge 2", 1)]
    [InlineData("-MaxAge 0.5", 1)]
    [InlineData("-MaxAge '3'", 1)]
    [InlineData("-MaxAge (New-TimeSpan -Hours 1)", 1)]
    [InlineData("-MaxAge ([TimeSpan]::Zero)", 0)]
    [InlineData("-MinSize 1GB", 0)]
    [InlineData("-MaxSize 1MB", 1)]
    [InlineData("-Name 'one*'", 1)]
    [InlineData("-Name 'nothing*'", 0)]
    public void FindGgufModel_Filters_BindAndApply(string parameters, int expected)
    {
        Model("one.gguf");
        var (output, shell) = _host.Run($"Find-GgufModel -Path '{_dir.FullName}' {parameters}");
        Assert.False(shell.HadErrors, string.Join("; ", shell.Streams.Error));
        Assert.Equal(expected, output.Count);
    }

    [Fact]
    public void FindGgufModel_FromGetChildItem_JoinsShardsPassedSeparately()
    {
        var first = Model("two-00001-of-00002.gguf");
        File.Copy(first, Path.Combine(_dir.FullName, "two-00002-of-00002.gguf"));
        var (output, shell) = _host.Run($"Get-ChildItem '{_dir.FullName}' | Find-GgufModel");
        Assert.False(shell.HadErrors);
        Assert.Equal(2, Assert.IsType<GgufModel>(Assert.Single(output).BaseObject).Shards.Count);
    }
}
