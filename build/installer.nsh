; Included into electron-builder's NSIS script (nsis.include in electron-builder.yml).

!macro customUnInstall
  ; An update runs the old uninstaller too: keep the user's "Start at login" choice then.
  ${ifNot} ${isUpdated}
    ; The login item app.setLoginItemSettings wrote for the user running the uninstaller; its value
    ; name is the AppUserModelId (= appId). Other users' entries point at a removed exe and are skipped.
    DeleteRegValue HKCU "Software\Microsoft\Windows\CurrentVersion\Run" "com.smtprelaytray.app"
    DeleteRegValue HKCU "Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run" "com.smtprelaytray.app"
  ${endIf}
!macroend

; ---- Issue 16: silent installs with a configuration, `Setup.exe /S /CONFIG=C:\path\relay-config.json` ----
; The file (from `smtp-relay config export`) goes through `smtp-relay config import`, which validates
; it whole and replaces config.json atomically; a refused file leaves the old configuration and fails
; the install's exit code (2) so a roll-out script notices. $APPDATA follows electron-builder's
; install mode: %APPDATA% for "only for me", %ProgramData% (the service's data directory) for
; "for all users". SMTP_RELAY_CLI is how the packaged app runs its CLI; define it before this file
; is included if the packaging ships the CLI elsewhere.
!include FileFunc.nsh
!ifndef SMTP_RELAY_CLI
  !define SMTP_RELAY_CLI '"$INSTDIR\resources\smtp-relay.cmd"'
!endif

!macro smtpRelayImportConfig
  ${GetParameters} $R0
  ClearErrors
  ${GetOptions} $R0 "/CONFIG=" $R1
  ${ifNot} ${Errors}
  ${andIf} $R1 != ""
    DetailPrint "Importing the relay configuration from $R1"
    nsExec::ExecToLog '${SMTP_RELAY_CLI} config import "$R1" --data-dir "$APPDATA\${PRODUCT_NAME}"'
    Pop $R2
    ${if} $R2 != 0
      DetailPrint "The configuration $R1 was refused (exit $R2); the previous configuration is kept"
      MessageBox MB_OK|MB_ICONEXCLAMATION "The configuration file $R1 was refused; see the installation details. The previous configuration is kept." /SD IDOK
      SetErrorLevel 2
    ${endIf}
  ${endIf}
!macroend

; The Application log source for the relay's events (IDs 1000-1104, README "Monitoring and fleets").
; Registering a source needs administrator rights: done by the "for all users" install, which runs
; elevated; a per-user install leaves it to an admin (New-EventLog, same command).
!macro smtpRelayRegisterEventSource
  ${if} $installMode == "all"
    nsExec::ExecToLog `powershell.exe -NoProfile -NonInteractive -Command "if (-not [System.Diagnostics.EventLog]::SourceExists('${PRODUCT_NAME}')) { New-EventLog -LogName Application -Source '${PRODUCT_NAME}' }"`
    Pop $R2
  ${endIf}
!macroend

; Another customInstall (the service install) must insert these itself, after the CLI is in place
; and before the service starts; this one only applies when there is no other.
!ifmacrondef customInstall
  !macro customInstall
    !insertmacro smtpRelayRegisterEventSource
    !insertmacro smtpRelayImportConfig
  !macroend
!endif
; ---- end of issue 16 ----
