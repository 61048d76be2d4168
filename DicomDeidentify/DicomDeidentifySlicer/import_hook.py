""""Anonymize on import" in the DICOM module, and the switch between the main and the side database.

Glue only: every decision (which folders one import runs, one import at a time, what the controls
show, which main database to return to, what counts as a foreign insert) is made by
DicomDeidentifyLib.import_routing, tested without Slicer. Read from the sources of Slicer v5.8.0
(d20ee94c), v5.10.0 (a2b6d082) and main (583e9b37), their CTK (82cae578, dd4caeae, 5056664a) and
PythonQt (commontk db525aff; MeVisLab f4769f190 and 9992368e9, the bases of 5.10's and main's):
  * Every import entry point of the DICOM module ends in a method of DICOMLib.SlicerDICOMBrowser:
    the Import button -> DICOMWidget.importFolder -> browserWidget.importFolder() (DICOM.py 5.8:812-815,
    main:1151-1154); folders dropped on the window -> DICOMInstance.browserWidget.importDirectories(list)
    (5.8:546-560, main:813-826); Add Data's DICOMFileReader.load -> DICOMWidget.browserWidget
    .importDirectory(dir), once per file (5.8:981-990, main:1435-1442). The methods are defined in the
    class (DICOMLib/DICOMBrowser.py 5.8/5.10:129-145, main:141-157), so this hook replaces them in the
    CLASS: every browser, present or future (a reloaded DICOM module), is routed. Python finds them
    there: a Python subclass of a wrapped Qt class is a plain type (PythonQtClassWrapper_setattro is
    PyType_Type.tp_setattro, db525aff src/PythonQtClassWrapper.cpp:569-572, 9992368e9:571-574), and
    attribute lookup on its instances runs Python's generic lookup (data descriptors of the type,
    then the instance dict, then the type's other attributes, where plain functions are found)
    before Qt's members (PythonQtInstanceWrapper_getattro,
    db525aff src/PythonQtInstanceWrapper.cpp:439, f4769f190:459, 9992368e9:449).
  * Not routed, because they bypass those methods: the DICOM listener, query/retrieve, DICOMweb
    (DICOMUtils indexes directly), the DICOM Patcher's Import (DICOMPatcher.py 5.8:782-787 calls the
    C++ browser) and scripts. They are DETECTED, not prevented: ctkDICOMDatabase emits
    databaseChanged() when its file changes (a QFileSystemWatcher, ctkDICOMDatabase.cpp
    82cae578:1513-1514, dd4caeae:1513-1514, 5056664a:1590-1591); the hook then compares the shown
    database with a baseline taken after its own imports and reports the count of foreign instances.
    (instanceAdded(QString) cannot be used: the indexer inserts through a database object of its own,
    ctkDICOMIndexer.cpp 82cae578:89,277 and 5056664a:90,278, so slicer.dicomDatabase never emits it.)
  * browserWidget.setDatabaseDirectory(dir) opens slicer.dicomDatabase on <dir>/ctkDICOM.sql in both
    browsers (DICOMBrowser.py 5.8:115-117, main:127-129) and the browsers store dir under
    slicer.dicomDatabaseDirectorySettingsKey (ctkDICOMBrowser.cpp 82cae578:619-709); showing the side
    database puts Slicer's value back, as DICOMUtils.openTemporaryDatabase does (5.8:372-407), so that
    key always names the main database.
"""
import contextlib
import logging

import qt
import slicer

from DicomDeidentifyLib import import_routing as routing

try:   # slicer.i18n.tr (Base/Python/slicer/i18n.py 5.8.0 and 5.10.0:52, main:54), as in DicomDeidentify.py (NC2)
    from slicer.i18n import tr as _
except ImportError:
    def _(text):
        return text

SETTINGS_ANONYMIZE_ON_IMPORT = "DicomDeidentify/AnonymizeOnImport"
SETTINGS_MAIN_DATABASE = "DicomDeidentify/MainDatabaseDirectory"   # written by earlier versions; removed (M5)
ACTION_NAME = "DicomDeidentifyAnonymizeOnImportAction"
INDICATOR_NAME = "DicomDeidentifyDatabaseIndicator"
ROUTED_METHODS = routing.ROUTED_METHODS
_ORIGINAL = "_dicomDeidentifyOriginal"   # on a routed method: the method it replaced
FOREIGN_CHECK_DELAY_MS = 1000            # databaseChanged() comes once per write: check after they settle
# Add Data loads its files in one loop (qSlicerIOManager::loadNodes, Base/QTGUI/qSlicerIOManager.cxx
# 5.8:466-497) whose progress dialog is WindowModal (5.8:104), and a modal QProgressDialog's setValue()
# processes events (Qt documentation of QProgressDialog::setValue): a 0 ms timer could fire between two
# files. The timer is restarted by every routed call instead, so it fires once the calls have stopped.
PENDING_QUIET_MS = 500
HIGHLIGHT_STYLE = "QLabel { background-color: #ffd54f; color: black; font-weight: bold; padding: 2px; }"

_hook = None


def _readSetting():
    return routing.parse_bool(slicer.app.userSettings().value(SETTINGS_ANONYMIZE_ON_IMPORT, "false"))


def _writeSetting(enabled):
    slicer.app.userSettings().setValue(SETTINGS_ANONYMIZE_ON_IMPORT, "true" if enabled else "false")


_setting = routing.ObservedSetting(_readSetting, _writeSetting)


def hook(logic=None):
    """The one hook of this session, created on first use. Creating it installs nothing and builds no
    module logic. `logic` is ignored (earlier versions cached it, and a caller's logic, e.g. the
    self-test's with its temporary settings group, then stayed in the session: review N3): the hook
    uses a fresh DicomDeidentifyLogic() with the user's settings for each action, unless a caller
    sets `hook().logic` explicitly (and puts the previous value, possibly None, back)."""
    global _hook
    if _hook is None:
        _hook = ImportHook()
    return _hook


def anonymizeOnImport():
    return _setting.get()


def setAnonymizeOnImport(enabled):
    """Store the setting; every observer (the menu action, the indicator, the DICOM De-identify panel)
    is told when it changed."""
    _setting.set(enabled)


def notifyAnonymizeOnImport():
    """Tell every observer the stored value, after it was written directly (the self-test's settings
    restore, review N8)."""
    _setting.notify()


def addAnonymizeOnImportObserver(callback):
    """`callback(enabled: bool)` after every change of "Anonymize on import", whoever made it (the
    DICOM module's menu action, the panel, a script). A callback that raises is logged and dropped."""
    _setting.add_observer(callback)


def removeAnonymizeOnImportObserver(callback):
    _setting.remove_observer(callback)


def _updateHookControls(enabled):
    if _hook is not None:
        _hook.updateControls()


_setting.add_observer(_updateHookControls)


def _route():
    """DEIDENTIFY, ORIGINAL or REFUSE for a routed call now (import_routing.import_route, review N1):
    while the side database is shown, Slicer's own import never runs, whatever the option says."""
    return routing.import_route(anonymize_on_import=anonymizeOnImport(), side_shown=hook().sideDatabaseShown())


def _routedMethod(name, original):
    """The replacement of SlicerDICOMBrowser.<name>: the original only while "Anonymize on import" is
    off and the main database is shown; refused while the side database is shown with the option off."""
    if name == "importFolder":
        def routed(browser, *args, **kwargs):
            route = _route()
            if route == routing.ORIGINAL:
                return original(browser, *args, **kwargs)
            if route == routing.REFUSE:
                return hook().refuseOriginals()
            hook()._importFolder()
    elif name == "importDirectories":
        def routed(browser, directoriesToAdd, *args, **kwargs):
            route = _route()
            if route == routing.ORIGINAL:
                return original(browser, directoriesToAdd, *args, **kwargs)
            if route == routing.REFUSE:
                return hook().refuseOriginals()
            hook()._importNow([str(d) for d in directoriesToAdd])
    else:
        def routed(browser, dicomFilesDirectory, *args, **kwargs):
            route = _route()
            if route == routing.ORIGINAL:
                return original(browser, dicomFilesDirectory, *args, **kwargs)
            if route == routing.REFUSE:
                return hook()._refuseSoon()   # Add Data calls once per file: one message for all
            hook()._importSoon([str(dicomFilesDirectory)])
    routed.__name__ = name
    routed.__doc__ = f"{name} of DICOMLib.SlicerDICOMBrowser, routed by DicomDeidentify's Anonymize on import."
    setattr(routed, _ORIGINAL, original)
    return routed


class ImportHook:
    def __init__(self, logic=None):
        self.logic = logic
        self.dicomWidget = None
        self.action = None
        self.indicator = None
        self.indicatorLabel = None
        self.indicatorButton = None
        self.watchedDatabase = None
        self.baseline = None
        self.gate = routing.ImportGate()
        self.pending = routing.PendingImports()
        self.refusedCalls = 0   # routed importDirectory calls refused since the last flush (N1)
        # QTimer.singleShot is hidden as a property by PythonQt ("ignore singleShot property, users need
        # to use setSingleShot", PythonQtClassInfo.cpp db525aff:148-152, f4769f190 and 9992368e9:156-159)
        self.foreignTimer = qt.QTimer()
        self.foreignTimer.setSingleShot(True)
        self.foreignTimer.setInterval(FOREIGN_CHECK_DELAY_MS)
        self.foreignTimer.connect("timeout()", self._onForeignTimer)
        self.pendingTimer = qt.QTimer()   # restarted by each routed importDirectory call (Add Data's N calls)
        self.pendingTimer.setSingleShot(True)
        self.pendingTimer.setInterval(PENDING_QUIET_MS)
        self.pendingTimer.connect("timeout()", self._onPendingTimer)

    def _logic(self):
        """The logic set explicitly, else a new one on the user's settings (cheap: its constructor
        only stores the settings group; never cached, so nothing of a caller's logic is kept)."""
        if self.logic is not None:
            return self.logic
        from DicomDeidentify import DicomDeidentifyLogic
        return DicomDeidentifyLogic()

    def _safeErrorDisplay(self, what):
        """A popup and log line without the error's text (review N4); see DicomDeidentifySlicer.errors."""
        from .errors import safeErrorDisplay
        return safeErrorDisplay(what, lambda: self._logic().reportsFolder(), windowTitle=_("Anonymize on import"))

    # -- installing --------------------------------------------------------------------------------
    def ensureInstalled(self):
        """Route the DICOM module's imports (its browser class), add the menu entry and the indicator to
        the DICOM module's panel if it exists, watch the shown database. Returns whether the DICOM
        module's panel is there. Cheap and idempotent: call it whenever the DICOM module may have been
        created or reloaded."""
        if not self._routeBrowserClass():
            return False
        self._watchDatabase()
        widget = getattr(slicer.modules, "DICOMWidget", None)   # set when the DICOM panel is created
        if widget is None or getattr(widget, "browserWidget", None) is None:
            return False
        if widget is not self.dicomWidget:
            self._addMenuAction(widget)
            self._addIndicator(widget)
            self.dicomWidget = widget
        self.updateControls()
        return True

    def _routeBrowserClass(self):
        try:
            import DICOMLib.DICOMBrowser   # Modules/Scripted/DICOMLib (5.8, 5.10, main)
        except ImportError:
            logging.warning("DicomDeidentify: Slicer's DICOMLib is not available; imports are not routed")
            return False
        import DICOMLib
        classes = {DICOMLib.DICOMBrowser.SlicerDICOMBrowser, getattr(DICOMLib, "SlicerDICOMBrowser", None)}
        for cls in classes - {None}:   # one class unless DICOMBrowser.py was reloaded
            for name in ROUTED_METHODS:
                current = vars(cls).get(name)
                if current is None:
                    logging.error("DicomDeidentify: SlicerDICOMBrowser has no %s; that import is not routed", name)
                    continue
                if hasattr(current, _ORIGINAL) and getattr(current, "__globals__", None) is globals():
                    continue   # routed by this copy of the module already
                # routed by an earlier copy of this module (before a reload): route the original again
                setattr(cls, name, _routedMethod(name, getattr(current, _ORIGINAL, current)))
        return True

    def _addMenuAction(self, widget):
        menu = widget.ui.importButton.menu()   # ctkMenuButton; the menu is made in DICOMWidget.setup (5.8:613-616)
        if menu is None:
            logging.warning("DicomDeidentify: the DICOM module's import button has no options menu")
            return
        for old in menu.findChildren(qt.QAction, ACTION_NAME):   # from before a reload of either module
            menu.removeAction(old)
            old.deleteLater()
        self.action = qt.QAction(_("Anonymize on import"), menu)
        self.action.objectName = ACTION_NAME
        self.action.toolTip = _("Import only de-identified copies, into a separate (side) DICOM database. "
                                "The originals are read, never indexed or copied.")
        self.action.checkable = True
        self.action.checked = anonymizeOnImport()
        self.action.connect("toggled(bool)", self._onActionToggled)
        menu.addAction(self.action)

    def _addIndicator(self, widget):
        for old in widget.parent.findChildren(qt.QWidget, INDICATOR_NAME):   # from before a reload
            old.hide()
            old.deleteLater()
        frame = qt.QFrame()
        frame.objectName = INDICATOR_NAME
        layout = qt.QHBoxLayout(frame)
        layout.setContentsMargins(0, 0, 0, 0)
        label = qt.QLabel()
        label.wordWrap = True   # a long text wraps instead of widening the module panel (C1)
        # the DICOM module sizes its directory button the same way (DICOM.py 5.8:681, main:955)
        label.sizePolicy = qt.QSizePolicy(qt.QSizePolicy.Ignored, qt.QSizePolicy.Preferred)
        button = qt.QPushButton()
        button.connect("clicked()", self._onIndicatorClicked)
        layout.addWidget(label, 1)
        layout.addWidget(button)
        widget.layout.insertWidget(0, frame)   # ScriptedLoadableModuleWidget.layout (ScriptedLoadableModule.py 5.8/main:105)
        self.indicator, self.indicatorLabel, self.indicatorButton = frame, label, button

    def _watchDatabase(self):
        # slicer.dicomDatabase is one object for the whole session (switching databases reopens it).
        # databaseChanged() and opened() are signals of ctkDICOMDatabase in all three CTKs
        # (ctkDICOMDatabase.h 82cae578:490,496; dd4caeae:491,497; 5056664a:505,511); main's DICOM
        # module connects databaseChanged() the same way (DICOM.py main:967).
        database = getattr(slicer, "dicomDatabase", None)
        if database is None or database is self.watchedDatabase:
            return
        database.connect("databaseChanged()", self._onDatabaseChanged)
        database.connect("opened()", self._onOpened)
        self.watchedDatabase = database
        self._takeBaseline()

    # -- which database is shown -------------------------------------------------------------------
    def sideDatabaseShown(self):
        from pathlib import Path
        from DicomDeidentifyLib.side_database import is_side_database
        database = getattr(slicer, "dicomDatabase", None)
        return bool(database is not None and database.isOpen and database.databaseDirectory
                    and is_side_database(Path(database.databaseDirectory)))

    def updateControls(self, *unused):
        database = getattr(slicer, "dicomDatabase", None)
        state = routing.controls_state(side_shown=self.sideDatabaseShown(), anonymize_on_import=anonymizeOnImport(),
                                       busy=self.gate.busy, database_open=bool(database is not None and database.isOpen))
        if self.action is not None:
            self.action.checked = state.action_checked   # its toggled() stores the same value: no change, no loop
        widget = self.dicomWidget
        copyAction = getattr(widget, "copyOnImportAction", None) if widget is not None else None
        if copyAction is not None:   # DICOMWidget.copyOnImportAction: DICOM.py 5.8:618, 5.10:619, main:889 (C9)
            copyAction.enabled = state.copy_on_import_enabled
        if self.indicatorLabel is not None:
            self.indicatorLabel.text = state.indicator_text
            self.indicatorLabel.toolTip = state.indicator_tooltip
            self.indicatorLabel.styleSheet = HIGHLIGHT_STYLE if state.highlight else ""
            self.indicatorButton.text = state.button_text
            self.indicatorButton.enabled = state.button_enabled

    def toggleDatabase(self):
        if self.sideDatabaseShown():
            self.showMainDatabase()
        else:
            self.showSideDatabase()

    def _browser(self):
        """The DICOM module's SlicerDICOMBrowser (the DICOM panel is created if it never was), or None."""
        if not self.ensureInstalled():
            try:
                slicer.util.getModuleWidget("DICOM")   # raises RuntimeError without it (util.py 5.8:1314-1330)
            except RuntimeError:
                return None
            self.ensureInstalled()
        return getattr(self.dicomWidget, "browserWidget", None) if self.dicomWidget is not None else None

    def _refusedWhileBusy(self, what):
        refusal = self.gate.refusal(what)
        if refusal:
            logging.warning("DicomDeidentify: %s", refusal)
            slicer.util.showStatusMessage(refusal, 10000)
        return bool(refusal)

    def showSideDatabase(self):
        """Show the side database in the DICOM browser; Slicer keeps recording the main one."""
        if self._refusedWhileBusy("switch"):
            return
        browser = self._browser()
        if browser is None:
            logging.warning("DicomDeidentify: the DICOM module is not available; the side database is not shown")
            return
        side = self._logic().ensureSideDatabase()
        if not self._shows(side):   # the configured side database, not just any (review N5)
            settings = slicer.app.userSettings()
            key = slicer.dicomDatabaseDirectorySettingsKey
            recorded = settings.value(key)
            browser.setDatabaseDirectory(side)
            if recorded is None:   # the browser recorded the side database as Slicer's: undo it
                settings.remove(key)
            else:
                settings.setValue(key, recorded)
        self._refreshBrowser(browser)
        self._takeBaseline()
        self.updateControls()

    def showMainDatabase(self):
        """Show the main database: the one Slicer records under slicer.dicomDatabaseDirectorySettingsKey."""
        if self._refusedWhileBusy("switch"):
            return
        browser = self._browser()
        if browser is None:
            return
        settings = slicer.app.userSettings()
        settings.remove(SETTINGS_MAIN_DATABASE)   # earlier versions' copy, stale once the user changed databases
        # the key may hold a path relative to the browser's base, Slicer's home (qSlicerApplication.cxx
        # 5.8:1393); ctkDICOMBrowser.databaseDirectoryBase is a property (ctkDICOMBrowser.h 82cae578:64)
        main = routing.main_database_directory(settings.value(slicer.dicomDatabaseDirectorySettingsKey),
                                               browser.dicomBrowser.databaseDirectoryBase)
        if main is None:
            message = _("Slicer records no main DICOM database (or records the side one): the shown database is kept.")
            logging.warning("DicomDeidentify: %s", message)
            slicer.util.showStatusMessage(message, 10000)
        elif self.sideDatabaseShown():
            browser.setDatabaseDirectory(main)
        self._refreshBrowser(browser)
        self._takeBaseline()
        self.updateControls()

    @staticmethod
    def _shows(folder):
        """Whether slicer.dicomDatabase is open on `folder` (import_routing.shows_folder)."""
        database = getattr(slicer, "dicomDatabase", None)
        shown = database.databaseDirectory if database is not None and database.isOpen else None
        return routing.shows_folder(shown, folder)

    def _refreshBrowser(self, browser):
        """Show the opened database's patients in the visual browser, which setDatabaseDirectory does not
        refresh on 5.8/5.10 (ctkDICOMVisualBrowserWidget.cpp dd4caeae:2244-2340)."""
        visual = getattr(browser, "dicomVisualBrowser", None)
        if visual is None:
            return
        # toggleBrowsers sets useExpertimentalVisualDICOMBrowser (5.8/5.10) or useVisualDICOMBrowser (main)
        inUse = (visual.visible or getattr(browser, "useVisualDICOMBrowser", False)
                 or getattr(browser, "useExpertimentalVisualDICOMBrowser", False))
        if not inUse:
            return
        refresh = getattr(visual, "refreshBrowser", None)   # CTK main only: 5056664a ctkDICOMVisualBrowserWidget.h:317
        if refresh is None:
            refresh = visual.onShowPatients                  # public slot in 82cae578 and dd4caeae (.h:375)
        refresh()

    # -- importing ---------------------------------------------------------------------------------
    def _importFolder(self):
        if self._refusedWhileBusy("import"):
            return
        folder = qt.QFileDialog.getExistingDirectory(
            slicer.util.mainWindow(), _("Import DICOM files: de-identified copies go to the side database"))
        if folder:
            self._importNow([folder])

    def _importNow(self, paths):
        with self._safeErrorDisplay(_("Anonymize on import failed.")):
            self.importPaths(paths)

    def refuseOriginals(self):
        """Say why an import of original files into the shown side database did not run (review N1)."""
        slicer.util.warningDisplay(routing.ORIGINALS_INTO_SIDE_REFUSED, windowTitle=_("Anonymize on import"))

    def _refuseSoon(self):
        self.refusedCalls += 1
        self.pendingTimer.start()

    def _importSoon(self, paths):
        """Gather routed importDirectory calls (Add Data calls it once per file) into one run."""
        self.pending.add(paths)
        self.pendingTimer.start()   # QTimer::start restarts an active timer

    def flushPendingImports(self):
        """Run the gathered importDirectory calls now (the timer does it once the calls have stopped;
        scripts and tests that called importDirectory call this to wait for it). The outcome, or None."""
        self.pendingTimer.stop()
        if self.refusedCalls:
            self.refusedCalls = 0
            self.refuseOriginals()
        paths = self.pending.take()
        return self.importPaths(paths) if paths else None

    def _onPendingTimer(self):
        with self._safeErrorDisplay(_("Anonymize on import failed.")):
            self.flushPendingImports()

    def importPaths(self, paths):
        """De-identify `paths` into the side database (one run; folders coalesced) with a modal progress
        dialog, index and show the copies, then tell the user what happened; files to review go to the
        DICOM De-identify module. Refused (None) while another import runs."""
        from .progress import finishProgressDialog, progressDialog
        if self._refusedWhileBusy("import"):
            return None
        logic = self._logic()
        routable, refused = routing.split_routable(paths, logic.sideDatabaseDirectory())
        if refused:
            slicer.util.warningDisplay(
                _("{count} folder(s) lie inside the side database and were not imported again.").format(count=len(refused)),
                windowTitle=_("Anonymize on import"))
        if not routable:
            return None
        self.gate.enter()
        self.updateControls()
        dialog = None
        try:
            # Clean Pixel Data's packages: asked (and installed) before the busy dialog opens, as the
            # panel does (review N9); logic.importPaths asks again, but requirements.ensure remembers
            # the answer and the outcome for the session, so nothing pops up over the dialog.
            logic.ensurePixelPackages(logic.loadOptions())
            logic.ensureReportPackages()   # Jinja2, for the report's page: the same way
            with self.ownInserts(held=True) as own:
                dialog, progress, cancel = progressDialog(_("De-identifying before import..."))
                try:
                    outcome = logic.importPaths(routable, progress=progress, cancel=cancel)
                except Exception as error:
                    # no traceback or error text into the log or the popup (review N4): a key holders' note
                    from DicomDeidentifyLib.errors import SafeError, failure_message, write_failure_note
                    note = None
                    if not isinstance(error, SafeError):
                        try:
                            note = write_failure_note(logic.reportsFolder(), error, "Nothing was imported.")
                        except Exception:
                            note = None
                    slicer.util.errorDisplay(failure_message(_("Nothing was imported."), error, note),
                                             windowTitle=_("Anonymize on import"))
                    return None
                if self._shows(logic.sideDatabaseDirectory()):   # indexed into the shown database (N5)
                    own.extend(outcome.released)
        finally:
            finishProgressDialog(dialog)
            self.gate.leave()
        self.showSideDatabase()
        summary = outcome.summary()
        if outcome.held:
            slicer.util.selectModule("DicomDeidentify")
            slicer.modules.DicomDeidentifyWidget.showReview(outcome)
            slicer.util.infoDisplay(summary, windowTitle=_("Anonymize on import"))
        elif outcome.run and (outcome.run.summary.failed or outcome.run.summary.count("skipped")):
            slicer.util.warningDisplay(summary, windowTitle=_("Anonymize on import"))
        else:
            slicer.util.showStatusMessage(summary.splitlines()[0], 10000)
        return outcome

    # -- imports by other routes -------------------------------------------------------------------
    def _snapshot(self):
        """The shown database now: its instance count and, for the side database, its SOP Instance UIDs
        (ctkDICOMDatabase patients/studiesForPatient/seriesForStudy/instancesForSeries/imagesCount are
        Q_INVOKABLE in all three CTKs, ctkDICOMDatabase.h 82cae578:167-226, 5056664a:170-228)."""
        database = getattr(slicer, "dicomDatabase", None)
        if database is None or not database.isOpen:
            return None
        uids = None
        if self.sideDatabaseShown():
            uids = frozenset(uid for patient in database.patients()
                             for study in database.studiesForPatient(patient)
                             for series in database.seriesForStudy(study)
                             for uid in database.instancesForSeries(series))
        return routing.DatabaseSnapshot(database.databaseDirectory, database.imagesCount(), uids)

    def _takeBaseline(self, *unused):
        self.baseline = self._snapshot()

    def _onOpened(self):
        with self._safeErrorDisplay(_("Reading the opened DICOM database failed.")):
            self._takeBaseline()

    @contextlib.contextmanager
    def exclusiveRun(self, what="run"):
        """Around a run that does not index (the panel's "De-identify folder"): one run at a time with
        the imports and the release (review N6); raises import_routing.GateBusy while one runs."""
        if not self.gate.enter():
            raise routing.GateBusy(self.gate.refusal(what))
        self.updateControls()
        try:
            yield
        finally:
            self.gate.leave()
            self.updateControls()

    @contextlib.contextmanager
    def ownInserts(self, held=False):
        """Around this module's own indexing into the shown database (an import, the review's release):
        the caller extends the yielded list with the files it added; whatever else entered the shown
        database meanwhile is reported as foreign, and a new baseline is taken. Checks are held off
        meanwhile (the indexing's own databaseChanged() signals). It holds the gate (one run at a time,
        review N6): GateBusy while another run holds it, unless `held` says the caller (importPaths)
        holds it already."""
        before = self.baseline if self.baseline is not None else self._snapshot()
        own = []
        if not held and not self.gate.enter():
            raise routing.GateBusy(self.gate.refusal("release"))
        try:
            yield own
        finally:
            if not held:
                self.gate.leave()
            current = self._snapshot()
            if current is not None:
                # the own files' UIDs, where the snapshots list UIDs (the side database): a re-import adds
                # no UID, so subtracting a count would hide foreign inserts (review N7)
                ownUids = routing.sop_instance_uids(own) if current.sop_instance_uids is not None else None
                self._report(routing.foreign_instance_count(before, current, own=len(own), own_uids=ownUids))
            self.baseline = current

    def _onDatabaseChanged(self, *unused):
        if not self.gate.busy:   # during the hook's own indexing, ownInserts checks at its end
            self.foreignTimer.start()

    def _onForeignTimer(self):
        with self._safeErrorDisplay(_("Checking the DICOM database for imports failed.")):
            self.checkForeignInstances()

    def checkForeignInstances(self):
        """Compare the shown database with the baseline; report what entered it by another route.
        Returns the count of foreign instances."""
        if self.gate.busy:
            return 0
        current = self._snapshot()
        count = routing.foreign_instance_count(self.baseline, current) if current is not None else 0
        self.baseline = current
        self._report(count)
        self.updateControls()
        return count

    def _report(self, count):
        incident = routing.foreign_insert_incident(count, side_shown=self.sideDatabaseShown(),
                                                   anonymize_on_import=anonymizeOnImport())
        if incident:
            logging.warning("DicomDeidentify: %d DICOM instance(s) entered the shown database by another route", count)
            slicer.util.warningDisplay(incident, windowTitle=_("Anonymize on import"))

    # -- slots of the hook's own controls ------------------------------------------------------------
    def _onActionToggled(self, checked):
        with self._safeErrorDisplay(_("Anonymize on import could not be changed.")):
            setAnonymizeOnImport(checked)

    def _onIndicatorClicked(self):
        with self._safeErrorDisplay(_("The DICOM database could not be switched.")):
            self.toggleDatabase()
