; Included into electron-builder's NSIS script (nsis.include in electron-builder.yml).

!macro customUnInstall
  ; An update runs the old uninstaller too: keep the user's "Start at login" choice then.
  ${ifNot} ${isUpdated}
    ; The login item app.setLoginItemSettings wrote for the user running the uninstaller; its value
    ; name is the AppUserModelId (= appId). Other users' entries point at a removed exe and are skipped.
    DeleteRegValue HKCU "Software\Microsoft\Windows\CurrentVersion\Run" "com.smtprelaytray.app"
    DeleteRegValue HKCU "Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run" "com.smtprelaytray.app"
  ${endIf}
  !insertmacro relayServiceUnInstall
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
  !define SMTP_RELAY_CLI '"$INSTDIR\resources\relay\node.exe" "$INSTDIR\resources\relay\bin\smtp-relay.js"'
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


; ---- Windows service (per-machine installs) --------------------------------------------------------
; A per-machine install ("for all users", or /S /allusers) runs the relay as the Windows service
; SMTPRelayTray, so that it outlives any logon. The work is the app's own `smtp-relay service
; install|uninstall` (src/service/), run with the Node for Windows shipped in resources\relay: the same
; steps as a scripted install. A per-user install has no service: the tray app runs the relay itself.

!macro relayServiceCli ARGS
  nsExec::ExecToLog '"$INSTDIR\resources\relay\node.exe" "$INSTDIR\resources\relay\bin\smtp-relay.js" service ${ARGS}'
  Pop $0
!macroend

!macro relayServiceInstall
  ${if} $installMode == "all"
    DetailPrint "Installing and starting the SMTPRelayTray service"
    !insertmacro relayServiceCli "install"
    ${if} $0 != 0
      MessageBox MB_OK|MB_ICONEXCLAMATION "The SMTP Relay Tray service could not be installed (exit code $0; see Show details).$\r$\nUntil it is, the tray app runs the relay while you are logged on." /SD IDOK
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

; ---- end of issue 16 ----

; Counts q\<bucket>\*.json under the data folder: one file per message waiting for delivery.
!macro relayServiceCountQueued DIR RESULT
  StrCpy ${RESULT} 0
  FindFirst $R1 $R2 "${DIR}\spool\q\*"
  ${DoWhile} $R2 != ""
    ${if} $R2 != "."
    ${andIf} $R2 != ".."
      FindFirst $R3 $R4 "${DIR}\spool\q\$R2\*.json"
      ${DoWhile} $R4 != ""
        IntOp ${RESULT} ${RESULT} + 1
        FindNext $R3 $R4
      ${Loop}
      FindClose $R3
    ${endIf}
    FindNext $R1 $R2
  ${Loop}
  FindClose $R1
!macroend

!macro relayServiceUnInstall
  ${if} $installMode == "all"
    ; Always, also before an update: the service's node.exe must not hold the files being replaced.
    DetailPrint "Stopping and removing the SMTPRelayTray service"
    !insertmacro relayServiceCli "uninstall"
    ${ifNot} ${isUpdated}
      Push $R0
      Push $R1
      Push $R2
      Push $R3
      Push $R4
      Push $R5
      ReadEnvStr $R0 ProgramData
      StrCpy $R0 "$R0\SMTP Relay Tray"
      ${if} ${FileExists} "$R0\*.*"
        !insertmacro relayServiceCountQueued $R0 $R5
        ; Silent uninstalls keep the data (/SD IDNO): queued mail is never deleted unasked.
        ${if} ${Cmd} `MessageBox MB_YESNO|MB_ICONQUESTION|MB_DEFBUTTON2 "Delete the relay's data folder too?$\r$\n$\r$\n$R0$\r$\n$\r$\n$R5 message(s) are still waiting for delivery there and would be lost, with the relay's settings and log.$\r$\nChoose No to keep them: a later installation delivers the queue." /SD IDNO IDYES`
          RMDir /r "$R0"
        ${endIf}
      ${endIf}
      Pop $R5
      Pop $R4
      Pop $R3
      Pop $R2
      Pop $R1
      Pop $R0
    ${endIf}
  ${endIf}
!macroend

; One customInstall for both blocks: the event source and the imported configuration are in place
; before the service first starts.
!macro customInstall
  !insertmacro smtpRelayRegisterEventSource
  !insertmacro smtpRelayImportConfig
  !insertmacro relayServiceInstall
!macroend
; ---- end of the Windows service block ---------------------------------------------------------------
