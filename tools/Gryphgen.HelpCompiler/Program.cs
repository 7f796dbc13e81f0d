using System.Xml;
using Gryphgen.HelpCompiler;

// Usage: Gryphgen.HelpCompiler <docs/en-US folder> <output en-US folder> <assembly file name>
if (args.Length != 3)
{
    Console.Error.WriteLine("usage: Gryphgen.HelpCompiler <markdown folder> <output folder> <assembly.dll>");
    return 2;
}

var (source, destination, assembly) = (args[0], args[1], args[2]);
Directory.CreateDirectory(destination);
var commands = new List<CommandHelp>();
var failed = false;
foreach (var file in Directory.EnumerateFiles(source, "*.md").Order(StringComparer.Ordinal))
{
    var name = Path.GetFileNameWithoutExtension(file);
    var markdown = File.ReadAllText(file);
    if (name.StartsWith("about_", StringComparison.OrdinalIgnoreCase))
    {
        File.WriteAllText(Path.Combine(destination, name + ".help.txt"), AboutTopicWriter.Write(markdown));
        continue;
    }

    try
    {
        commands.Add(PlatyPsMarkdownParser.Parse(markdown, file));
    }
    catch (FormatException ex)
    {
        Console.Error.WriteLine(ex.Message);
        failed = true;
    }
}

var maml = Path.Combine(destination, assembly + "-Help.xml");
using (var writer = XmlWriter.Create(maml, new XmlWriterSettings { Indent = true, Encoding = new System.Text.UTF8Encoding(false) }))
{
    MamlWriter.Write(commands).Save(writer);
}

Console.WriteLine($"Wrote help for {commands.Count} cmdlet(s) to {maml}");
return failed ? 1 : 0;
