# The module as a user meets it: the built output imports, exports exactly its cmdlets, and installs from its package.
BeforeAll {
    . $PSScriptRoot/common.ps1
    $script:Module = Get-Module Gryphgen
    $script:CmdletTypes = [System.Reflection.Assembly]::LoadFrom((Join-Path $Module.ModuleBase 'Gryphgen.PowerShell.dll')).GetTypes() |
        Where-Object { $_.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false) }
}

Describe 'The built module' {
    It 'exports exactly the cmdlets its assembly defines' {
        $defined = $CmdletTypes | ForEach-Object {
            $a = $_.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0]
            "$($a.VerbName)-$($a.NounName)"
        } | Sort-Object
        $exported = (Get-Command -Module Gryphgen -CommandType Cmdlet).Name | Sort-Object
        $exported | Should -Be $defined
        $Module.ExportedCmdlets.Keys | Sort-Object | Should -Be $defined
    }

    It 'imports by its folder, ./output/Gryphgen, in a fresh pwsh with exactly the cmdlets that exist' {
        $script = "Import-Module '$(Join-Path $RepositoryRoot 'output/Gryphgen')'; (Get-Command -Module Gryphgen).Name -join ','"
        $names = & $PwshPath -NoProfile -NonInteractive -Command $script
        $LASTEXITCODE | Should -Be 0
        ($names -split ',' | Sort-Object) | Should -Be ((Get-Command -Module Gryphgen).Name | Sort-Object)
    }

    It 'lists every cmdlet explicitly in the manifest, without wildcards' {
        $manifest = Import-PowerShellDataFile (Join-Path $Module.ModuleBase 'Gryphgen.psd1')
        $manifest.CmdletsToExport | Should -Not -Contain '*'
        @($manifest.CmdletsToExport) | Sort-Object | Should -Be ((Get-Command -Module Gryphgen).Name | Sort-Object)
        $manifest.PowerShellVersion | Should -Be '7.4'
        $manifest.CompatiblePSEditions | Should -Be @('Core')
    }

    It 'uses only approved verbs' {
        $approved = (Get-Verb).Verb
        foreach ($command in Get-Command -Module Gryphgen) { $approved | Should -Contain $command.Verb }
    }

    It 'ships its format files and en-US help' {
        foreach ($format in (Import-PowerShellDataFile (Join-Path $Module.ModuleBase 'Gryphgen.psd1')).FormatsToProcess) {
            Join-Path $Module.ModuleBase $format | Should -Exist
        }
        Join-Path $Module.ModuleBase 'en-US/Gryphgen.PowerShell.dll-Help.xml' | Should -Exist
        Join-Path $Module.ModuleBase 'en-US/about_Gryphgen.help.txt' | Should -Exist
    }

    It 'ships no System.Management.Automation.dll: pwsh brings its own' {
        $shipped = @(Get-ChildItem -Path $Module.ModuleBase -Recurse -File | Where-Object Name -like 'System.Management.Automation*.dll')
        $shipped.FullName | Should -BeNullOrEmpty
        Get-ChildItem -Path $Module.ModuleBase -Filter '*.dll' | Should -Not -BeNullOrEmpty -Because 'the check must look at the real module folder'
    }

    It 'gives every output type a format view' {
        $formatted = Get-FormatData -TypeName * -PowerShellVersion $PSVersionTable.PSVersion |
            ForEach-Object TypeNames
        foreach ($command in Get-Command -Module Gryphgen) {
            foreach ($type in $command.OutputType.Type | Where-Object { $_ -and $_.Namespace -like 'Gryphgen*' }) {
                $formatted | Should -Contain $type.FullName -Because "$($command.Name) emits $($type.FullName)"
            }
        }
    }
}

Describe 'The package' {
    It 'installs with Install-PSResource from a local folder repository and imports' {
        $package = Get-ChildItem (Join-Path $RepositoryRoot 'output/packages') -Filter 'Gryphgen.*.nupkg' | Select-Object -First 1
        $package | Should -Not -BeNullOrEmpty -Because 'build.ps1 -Task Test writes the package before the tests run'
        $tempHome = Join-Path ([IO.Path]::GetTempPath()) "gryphgen-package-$([guid]::NewGuid())"
        # .NET answers "" for LocalApplicationData when the folder is missing, and PSResourceGet would then
        # write its registry relative to the working directory: create the folders and work inside them.
        foreach ($folder in '.local/share', '.config', '.cache') { New-Item -ItemType Directory -Path (Join-Path $tempHome $folder) -Force | Out-Null }
        try {
            # A private HOME keeps the repository registration and the CurrentUser install out of the user's own.
            $script = @"
`$ErrorActionPreference = 'Stop'
`$repository = 'GryphgenLocal' + [guid]::NewGuid().ToString('N')
Register-PSResourceRepository -Name `$repository -Uri '$($package.DirectoryName)' -Trusted
Install-PSResource -Name Gryphgen -Repository `$repository -Scope CurrentUser -TrustRepository -Quiet
`$installed = Get-InstalledPSResource -Name Gryphgen
Import-Module Gryphgen
'{0}|{1}|{2}' -f `$installed.InstalledLocation, (Get-Module Gryphgen).ModuleBase, (Get-Command -Module Gryphgen).Count
"@
            $psi = [System.Diagnostics.ProcessStartInfo]::new($PwshPath)
            foreach ($a in '-NoProfile', '-NonInteractive', '-Command', $script) { $psi.ArgumentList.Add($a) }
            $psi.Environment['HOME'] = $tempHome
            $psi.Environment['XDG_DATA_HOME'] = Join-Path $tempHome '.local/share'
            $psi.Environment['XDG_CONFIG_HOME'] = Join-Path $tempHome '.config'
            $psi.Environment['XDG_CACHE_HOME'] = Join-Path $tempHome '.cache'
            $psi.Environment['PSModulePath'] = ''
            $psi.WorkingDirectory = $tempHome
            $psi.RedirectStandardOutput = $true
            $psi.RedirectStandardError = $true
            $process = [System.Diagnostics.Process]::Start($psi)
            $stdout = $process.StandardOutput.ReadToEnd()
            $stderr = $process.StandardError.ReadToEnd()
            $process.WaitForExit()
            $process.ExitCode | Should -Be 0 -Because $stderr
            $location, $base, $count = ($stdout.Trim() -split "`n")[-1].Split('|')
            $base | Should -BeLike "$tempHome*"
            [int] $count | Should -Be (Get-Command -Module Gryphgen).Count
        }
        finally {
            Remove-Item -Recurse -Force $tempHome -ErrorAction SilentlyContinue
        }
    }
}
