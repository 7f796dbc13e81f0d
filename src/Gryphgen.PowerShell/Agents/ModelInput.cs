using System.Globalization;
using System.Management.Automation;
using Gryphgen.Core;

namespace Gryphgen.PowerShell.Agents;

/// <summary>
/// Reads a piped model by duck typing: a GgufModel (Path), a ModelFit from Select-ModelForGpu (ModelPath or
/// Path or Model.Path, GpuLayers, ContextLength), a FileInfo (FullName), or a string path. A GgufModel's
/// ContextLength is the trained maximum, not a choice, so it is used only from objects that also carry
/// GpuLayers (a fit decision).
/// </summary>
internal static class ModelInput
{
    public static (string Path, int? GpuLayers, int? ContextLength) Read(PSObject input)
    {
        if (input.BaseObject is string text)
        {
            return (text, null, null);
        }

        var path = StringProperty(input, "ModelPath") ?? StringProperty(input, "Path") ?? StringProperty(input, "FullName")
            ?? (input.Properties["Model"]?.Value is { } model ? StringProperty(PSObject.AsPSObject(model), "Path") : null)
            ?? throw new GryphgenException("GryphAgentModelInputInvalid", GryphgenErrorKind.InvalidArgument,
                $"A {input.BaseObject.GetType().Name} has no ModelPath, Path or FullName property: pipe a GgufModel, a ModelFit or a file.");
        var gpuLayers = IntProperty(input, "GpuLayers") ?? IntProperty(input, "GpuLayerCount");
        var context = gpuLayers is null ? null : IntProperty(input, "ContextLength");
        return (path, gpuLayers, context);
    }

    private static string? StringProperty(PSObject input, string name) =>
        input.Properties[name]?.Value is { } value && value.ToString() is { Length: > 0 } s ? s : null;

    private static int? IntProperty(PSObject input, string name)
    {
        var value = input.Properties[name]?.Value;
        if (value is null)
        {
            return null;
        }

        try
        {
            return Convert.ToInt32(PSObject.AsPSObject(value).BaseObject, CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is FormatException or InvalidCastException or OverflowException)
        {
            return null;
        }
    }
}
