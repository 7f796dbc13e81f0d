using System.Globalization;
using System.Management.Automation;

namespace Gryphgen.PowerShell;

/// <summary>
/// Lets a TimeSpan parameter take a plain number of days, as the original --max-age did: `-MaxAge 30` is 30 days,
/// `-MaxAge 1.5` a day and a half; a TimeSpan (`(New-TimeSpan -Hours 6)`) or a TimeSpan string ("6:00:00") passes
/// through.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class DaysToTimeSpanTransformationAttribute : ArgumentTransformationAttribute
{
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        var value = inputData is PSObject ps ? ps.BaseObject : inputData;
        return value switch
        {
            TimeSpan span => span,
            int or long or short or byte or uint or ulong or ushort or sbyte => TimeSpan.FromDays(Convert.ToDouble(value, CultureInfo.InvariantCulture)),
            double or float or decimal => TimeSpan.FromDays(Convert.ToDouble(value, CultureInfo.InvariantCulture)),
            string s when double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var days) => TimeSpan.FromDays(days),
            string s when TimeSpan.TryParse(s, CultureInfo.InvariantCulture, out var span) => span,
            _ => throw new ArgumentTransformationMetadataException($"'{inputData}' is neither a TimeSpan nor a number of days."),
        };
    }
}
