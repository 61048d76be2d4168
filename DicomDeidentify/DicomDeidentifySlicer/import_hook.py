""""Anonymize on import" in the DICOM module, and the switch between the main and the side database.

Facts read from Slicer's source (Modules/Scripted/DICOM/DICOM.py, DICOMLib/DICOMBrowser.py,
DICOMLib/DICOMUtils.py) and CTK's (ctkDICOMDatabase, ctkDICOMIndexer, ctkDICOMBrowser,
ctkDICOMVisualBrowserWidget); the same in Slicer v5.8.0 (CTK 82cae57), v5.10.0 (CTK dd4caea)
and main 583e9b3 of 2026-08-21 (CTK 5056664):
  * DICOMWidget.ui.importButton is a ctkMenuButton; its menu "Import options" holds
    "Copy imported files to DICOM database", added in DICOMWidget.setup();
  * the Import button calls DICOMWidget.importFolder -> browserWidget.importFolder(); folders
    dropped on the window call DICOMInstance.browserWidget.importDirectories(list); Add Data's
    DICOMFileReader selects the DICOM module, then calls DICOMWidget.browserWidget.importDirectory(dir).
    All three look the method up on the browser widget (a Python object) when they run, so an
    attribute of that instance routes them; a reloaded DICOM module has a new browser widget,
    which ensureInstalled() notices;
  * browserWidget.setDatabaseDirectory(dir) opens slicer.dicomDatabase on <dir>/ctkDICOM.sql in
    both browsers and stores dir under slicer.dicomDatabaseDirectorySettingsKey;
  * ctkDICOMDatabase emits instanceAdded(QString) for every instance it inserts, also those the
    DICOM listener, query/retrieve and DICOMweb bring in, which never pass through import.
"""
import logging

import qt
import slicer

SETTINGS_ANONYMIZE_ON_IMPORT = "DicomDeidentify/AnonymizeOnImport"
SETTINGS_MAIN_DATABASE = "DicomDeidentify/MainDatabaseDirectory"
ACTION_NAME = "DicomDeidentifyAnonymizeOnImportAction"
INDICATOR_NAME = "DicomDeidentifyDatabaseIndicator"
ROUTED_METHODS = ("importFolder", "importDirectories", "importDirectory")

_hook = None


def hook(logic=None):
    """The one hook of this session (created on first use)."""
    global _hook
    if _hook is None:
        if logic is None:
            from DicomDeidentify import DicomDeidentifyLogic
            logic = DicomDeidentifyLogic()
        _hook = ImportHook(logic)
    return _hook


def anonymizeOnImport():
    return slicer.app.userSettings().value(SETTINGS_ANONYMIZE_ON_IMPORT, "false") == "true"


def setAnonymizeOnImport(enabled):
    slicer.app.userSettings().setValue(SETTINGS_ANONYMIZE_ON_IMPORT, "true" if enabled else "false")
    if _hook is not None:
        _hook.updateControls()


class ImportHook:
    def __init__(self, logic):
        self.logic = logic
        self.browserWidget = None
        self.originals = {}
        self.action = None
        self.indicator = None
        self.watchedDatabase = None
        self.unexpectedInstances = 0
        self.warningTimer = qt.QTimer()
        self.warningTimer.singleShot = True
        self.warningTimer.interval = 1000
        self.warningTimer.connect("timeout()", self._warnUnexpectedInstances)

    # -- installing --------------------------------------------------------------------------------
    def ensureInstalled(self):
        """Route the DICOM module's imports, add the menu entry and the indicator; returns whether the
        DICOM module is there. Cheap: call it whenever the DICOM module may have been (re)created."""
        widget = getattr(slicer.modules, "DICOMWidget", None)
        browserWidget = getattr(widget, "browserWidget", None) if widget is not None else None
        if browserWidget is None:
            return False
        if browserWidget is not self.browserWidget:
            self._route(browserWidget)
            self._addMenuAction(widget)
            self._addIndicator(widget)
        self._watchDatabase()
        self.updateControls()
        return True

    def _route(self, browserWidget):
        # A browser routed before (by an earlier hook, before a reload) gives back its own methods.
        originals = {name: getattr(getattr(browserWidget, name), "_routedFrom", getattr(browserWidget, name))
                     for name in ROUTED_METHODS}

        def importFolder(*args):
            if not anonymizeOnImport():
                return originals["importFolder"](*args)
            folder = qt.QFileDialog.getExistingDirectory(
                slicer.util.mainWindow(), "Import DICOM files: de-identified copies go to the side database")
            if folder:
                self.importPaths([folder])

        def importDirectories(directories, *args):
            if not anonymizeOnImport():
                return originals["importDirectories"](directories, *args)
            self.importPaths([str(d) for d in directories])

        def importDirectory(directory, *args):
            if not anonymizeOnImport():
                return originals["importDirectory"](directory, *args)
            self.importPaths([str(directory)])

        for name, routed in (("importFolder", importFolder), ("importDirectories", importDirectories),
                             ("importDirectory", importDirectory)):
            routed._routedFrom = originals[name]
            setattr(browserWidget, name, routed)
        self.browserWidget, self.originals = browserWidget, originals

    def _addMenuAction(self, widget):
        menu = widget.ui.importButton.menu()
        if menu is None:
            logging.warning("DicomDeidentify: the DICOM module's import button has no options menu")
            return
        for old in menu.findChildren(qt.QAction, ACTION_NAME):   # from before a reload of this module
            menu.removeAction(old)
        self.action = qt.QAction("Anonymize on import", menu)
        self.action.objectName = ACTION_NAME
        self.action.toolTip = ("Import only de-identified copies, into a separate (side) DICOM database. "
                               "The originals are read, never indexed or copied.")
        self.action.checkable = True
        self.action.checked = anonymizeOnImport()
        self.action.connect("toggled(bool)", setAnonymizeOnImport)
        menu.addAction(self.action)

    def _addIndicator(self, widget):
        for old in slicer.util.mainWindow().findChildren(qt.QPushButton, INDICATOR_NAME):
            old.setParent(None)
        self.indicator = qt.QPushButton()
        self.indicator.objectName = INDICATOR_NAME
        self.indicator.styleSheet = "background-color: #ffd54f; color: black; font-weight: bold; text-align: left;"
        self.indicator.toolTip = "Which DICOM database the browser shows; click to switch."
        self.indicator.connect("clicked()", self.toggleDatabase)
        widget.layout.insertWidget(0, self.indicator)

    def _watchDatabase(self):
        # slicer.dicomDatabase is one object for the whole session (switching databases reopens it)
        database = slicer.dicomDatabase
        if database is None or self.watchedDatabase is not None:
            return
        database.connect("instanceAdded(QString)", self._onInstanceAdded)
        self.watchedDatabase = database

    # -- which database is shown -------------------------------------------------------------------
    def sideDatabaseShown(self):
        from DicomDeidentifyLib.runs import is_side_database
        database = slicer.dicomDatabase
        return bool(database is not None and database.isOpen and database.databaseDirectory
                    and is_side_database(database.databaseDirectory))

    def updateControls(self):
        if self.action is not None:
            self.action.checked = anonymizeOnImport()
        if self.indicator is None:
            return
        if self.sideDatabaseShown():
            self.indicator.text = ("Showing the DE-IDENTIFIED side database "
                                   f"({slicer.dicomDatabase.databaseDirectory}). Click to show your main database.")
        else:
            self.indicator.text = ("Showing your main DICOM database. Anonymize on import is "
                                   f"{'ON' if anonymizeOnImport() else 'off'}. Click to show the de-identified side database.")

    def toggleDatabase(self):
        if self.sideDatabaseShown():
            self.showMainDatabase()
        else:
            self.showSideDatabase()

    def _ensureBrowser(self):
        """The DICOM module's browser (its widget is created if it was never shown), or None."""
        if not self.ensureInstalled():
            slicer.util.getModuleWidget("DICOM")
            self.ensureInstalled()
        return self.browserWidget

    def showSideDatabase(self):
        if self._ensureBrowser() is None:
            logging.warning("DicomDeidentify: the DICOM module is not available; the side database is not shown")
            return
        side = self.logic.ensureSideDatabase()
        if not self.sideDatabaseShown():
            settings = slicer.app.userSettings()
            settings.setValue(SETTINGS_MAIN_DATABASE, slicer.dicomDatabase.databaseDirectory)
            remembered = settings.value(slicer.dicomDatabaseDirectorySettingsKey)
            self.browserWidget.setDatabaseDirectory(side)
            # The browser stored the side database as Slicer's database: Slicer starts on the main one.
            settings.setValue(slicer.dicomDatabaseDirectorySettingsKey, remembered)
        self._refreshBrowser()
        self.updateControls()

    def showMainDatabase(self):
        if self._ensureBrowser() is None:
            return
        settings = slicer.app.userSettings()
        main = settings.value(SETTINGS_MAIN_DATABASE) or settings.value(slicer.dicomDatabaseDirectorySettingsKey)
        if main:
            self.browserWidget.setDatabaseDirectory(main)
        self._refreshBrowser()
        self.updateControls()

    def _refreshBrowser(self):
        visual = getattr(self.browserWidget, "dicomVisualBrowser", None)
        if visual is not None and visual.visible:
            visual.refreshBrowser()

    # -- importing ---------------------------------------------------------------------------------
    def importPaths(self, paths):
        """De-identify `paths` into the side database with a progress dialog, index and show the copies,
        then tell the user what happened; files to review go to the DICOM De-identify module."""
        from .progress import progressDialog
        dialog, progress, cancel = progressDialog("De-identifying before import...")
        try:
            outcome = self.logic.importPaths(paths, progress=progress, cancel=cancel)
        except Exception as error:
            logging.exception("DicomDeidentify: import failed")
            slicer.util.errorDisplay(f"Nothing was imported: {error}")
            return None
        finally:
            dialog.close()
        self.showSideDatabase()
        summary = outcome.summary()
        if outcome.held:
            slicer.util.selectModule("DicomDeidentify")
            slicer.modules.DicomDeidentifyWidget.showReview(outcome)
            slicer.util.infoDisplay(summary, windowTitle="Anonymize on import")
        elif outcome.run and (outcome.run.summary.failed or outcome.run.summary.count("skipped")):
            slicer.util.warningDisplay(summary, windowTitle="Anonymize on import")
        else:
            slicer.util.showStatusMessage(summary.splitlines()[0], 10000)
        return outcome

    # -- imports that bypass the hook --------------------------------------------------------------
    def _onInstanceAdded(self, *unused):
        if anonymizeOnImport():
            self.unexpectedInstances += 1
            self.warningTimer.start()

    def _warnUnexpectedInstances(self):
        count, self.unexpectedInstances = self.unexpectedInstances, 0
        where = "de-identified side" if self.sideDatabaseShown() else "main"
        slicer.util.warningDisplay(
            f"{count} DICOM instance(s) were just added to the {where} database without de-identification: "
            "the DICOM listener, query/retrieve and DICOMweb do not go through \"Anonymize on import\". "
            "Their original patient information is now in that database.", windowTitle="Anonymize on import")
