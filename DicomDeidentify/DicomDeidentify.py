"""DicomDeidentify: DICOM PS3.15 Annex E de-identification inside 3D Slicer.

A thin Slicer layer: every decision lives in DicomDeidentifyLib (pure Python, tested without
Slicer); DicomDeidentifySlicer/import_hook.py adds "Anonymize on import" to the DICOM module.
This file holds the module description, the panel, the logic glue (settings, progress, the
side database's index) and the in-Slicer self-test. From the Python console:

    logic = slicer.util.getModuleLogic("DicomDeidentify")
    summary, report = logic.deidentifyFolder("/data/in", "/data/out")      # a plain folder
    outcome = logic.importPaths(["/media/cdrom"])                          # into the side database
"""
import logging
import os

import qt
import slicer
from slicer.ScriptedLoadableModule import (ScriptedLoadableModule, ScriptedLoadableModuleLogic,
                                           ScriptedLoadableModuleTest, ScriptedLoadableModuleWidget)

try:   # Slicer 5.8.0, 5.10.0 and main: Base/Python/slicer/i18n.py has tr() and translate() (5.8.0 i18n.py:9, :52),
    from slicer.i18n import tr as _   # used the way main's template does (Utilities/Templates/Modules/Scripted/TemplateKey.py:8-9)
    from slicer.i18n import translate
except ImportError:   # a Slicer without i18n: the English text
    def _(text):
        return text

    def translate(context, text):
        return text

# Slicer settings of the logic, under its settings group ("DicomDeidentify"; the self-test uses its own).
SETTINGS_GROUP = "DicomDeidentify"
SETTINGS_PROFILE = "Profile"                     # the options as JSON, never a review decision (M16)
SETTINGS_KEY_FILE = "KeyFile"
SETTINGS_OUTPUT = "OutputDirectory"
SETTINGS_SIDE_DATABASE = "SideDatabaseDirectory"
SETTINGS_LINKAGE = "Linkage"
CTK_DATABASE_FILE = "ctkDICOM.sql"


def installImportHook(*unused):
    """Route the DICOM module's imports when it exists (at startup, and whenever a module is selected:
    the DICOM module may have been created or reloaded since)."""
    try:
        from DicomDeidentifySlicer import import_hook
        import_hook.hook().ensureInstalled()
    except Exception as error:   # the DICOM module must keep working whatever happens here
        logging.error("DicomDeidentify: Anonymize on import could not be set up (%s)", type(error).__name__)


def safeErrorDisplay(*args, **kwargs):
    """DicomDeidentifySlicer.errors.safeErrorDisplay (no identifying text in popups or the log, N4)."""
    from DicomDeidentifySlicer.errors import safeErrorDisplay as display
    return display(*args, **kwargs)


HOMEPAGE = "https://github.com/SlicerDeidentify/SlicerDeidentify#readme"   # EXTENSION_HOMEPAGE (CMakeLists.txt)


class DicomDeidentify(ScriptedLoadableModule):
    def __init__(self, parent):
        ScriptedLoadableModule.__init__(self, parent)
        # Texts through _() / translate() as Slicer main's template does (TemplateKey.py:32-47); the
        # category in the context Slicer's own modules use (5.8.0 DICOMPatcher.py:26, main the same).
        self.parent.title = _("DICOM De-identify")
        self.parent.categories = [translate("qSlicerAbstractCoreModule", "Utilities")]
        # The import hook, slicer.dicomDatabase and the self-test need the DICOM module (which itself
        # needs SubjectHierarchy); declared, Slicer loads it first and disables this module without it.
        self.parent.dependencies = ["DICOM"]
        self.parent.contributors = ["SlicerDeidentify developers (SlicerDeidentify project)"]
        self.parent.helpText = _(
            "De-identify DICOM files by DICOM PS3.15 Annex E (the Basic Application Level Confidentiality "
            "Profile and every option of Table E.1-1), with pseudonyms, UIDs and date shifts derived from a "
            "secret key so that they stay consistent across files and runs. Inputs are never modified. "
            "With \"Anonymize on import\" (DICOM module, Import options), only de-identified copies enter "
            "Slicer, in a side DICOM database. See the {link_start}documentation{link_end}.").format(
                link_start=f'<a href="{HOMEPAGE}">', link_end="</a>")
        self.parent.acknowledgementText = _(
            "The action tables are generated from DICOM PS3.15 (NEMA). pydicom reads and writes the files.")
        slicer.app.connect("startupCompleted()", self._onStartupCompleted)
        if _startupAlreadyCompleted():   # loaded into a running Slicer: the signal has come and gone
            self._onStartupCompleted()

    def _onStartupCompleted(self):
        installImportHook()
        # slicer.util.moduleSelector() raises RuntimeError without a main window (5.8.0 util.py:1231-1240,
        # main util.py:1521-1530), e.g. --no-main-window and the nomainwindow_ generic tests (review M9).
        if slicer.util.mainWindow() is not None:
            slicer.util.moduleSelector().connect("moduleSelected(QString)", installImportHook)


def _startupAlreadyCompleted():
    """Whether this module is loaded into a Slicer that has started (the Extension Wizard's "Load
    module"): startupCompleted() is emitted once, when the main window is first shown
    (qSlicerApplicationHelper.txx 5.8.0:312-319, .hxx 5.10.0:308-315 and main:499-506, after every
    module is loaded), so a visible main window means it has been; at a normal start the window is
    not shown yet. Without a main window the signal comes from a zero timer after loading, not
    missed by a module loaded at start."""
    mainWindow = slicer.util.mainWindow()
    return mainWindow is not None and mainWindow.isVisible()


def _finishProgressDialog(dialog):
    """Close (and, where DicomDeidentifySlicer.progress offers it, delete) a progress dialog."""
    from DicomDeidentifySlicer import progress
    finish = getattr(progress, "finishProgressDialog", None)
    if finish is not None:
        finish(dialog)
    else:
        dialog.close()


class DicomDeidentifyWidget(ScriptedLoadableModuleWidget):
    def setup(self):
        ScriptedLoadableModuleWidget.setup(self)
        uiWidget = slicer.util.loadUI(self.resourcePath("UI/DicomDeidentify.ui"))
        self.layout.addWidget(uiWidget)
        self.ui = slicer.util.childWidgetVariables(uiWidget)
        uiWidget.setMRMLScene(slicer.mrmlScene)
        self.logic = DicomDeidentifyLogic()
        self.reviewOutcome = None
        self.lastReport = None
        self._showOptions(self.logic.loadOptions())
        # nameFilters: Q_PROPERTY(QStringList) of ctkPathLineEdit (CTK 82cae578 ctkPathLineEdit.h:120,
        # dd4caeae :119, 5056664a :125); with filters Files|Writable (the .ui) browse() opens a save
        # dialog, so a new key location can be chosen (82cae578 ctkPathLineEdit.cpp:636-660) (review C5).
        self.ui.keyFileSelector.nameFilters = [_("Pseudonym key (*.key)"), _("All files (*)")]
        self.ui.keyFileSelector.currentPath = self.logic.keyFile()
        self.ui.sideDatabaseSelector.currentPath = self.logic.sideDatabaseDirectory()
        self.ui.linkageCheckBox.checked = self.logic.linkageEnabled()
        self.ui.outputDirectorySelector.currentPath = self.logic.outputDirectory()
        from DicomDeidentifySlicer import import_hook
        self._refreshAnonymizeOnImport()
        self.ui.anonymizeOnImportCheckBox.connect("toggled(bool)", import_hook.setAnonymizeOnImport)
        # The menu entry in the DICOM module flips the same setting: the hook tells its observers
        # (review M6). Looked up at run time: a hook without observers still works, refreshed in enter().
        self._anonymizeObserver = None
        addObserver = getattr(import_hook, "addAnonymizeOnImportObserver", None)
        if addObserver is not None:
            self._anonymizeObserver = self._refreshAnonymizeOnImport
            addObserver(self._anonymizeObserver)
        self.ui.sideDatabaseSelector.connect("currentPathChanged(QString)", self.logic.setSideDatabaseDirectory)
        self.ui.keyFileSelector.connect("currentPathChanged(QString)", self.onKeyFileChanged)
        self.ui.linkageCheckBox.connect("toggled(bool)", self.logic.setLinkageEnabled)
        self.ui.showSideDatabaseButton.connect("clicked()", self.onShowSideDatabase)
        self.ui.showMainDatabaseButton.connect("clicked()", self.onShowMainDatabase)
        self.ui.loadProfileButton.connect("clicked()", self.onLoadProfile)
        self.ui.saveProfileButton.connect("clicked()", self.onSaveProfile)
        for selector in (self.ui.inputDirectorySelector, self.ui.outputDirectorySelector):
            selector.connect("currentPathChanged(QString)", self._updateApplyButton)
        self.ui.targetComboBox.connect("currentIndexChanged(int)", self._updateApplyButton)
        self.ui.applyButton.connect("clicked(bool)", self.onApplyButton)
        self.ui.refreshReviewButton.connect("clicked()", self.onRefreshReview)
        self.ui.releaseButton.connect("clicked()", self.onReleaseButton)
        self.ui.lookupButton.connect("clicked()", self.onLookupButton)
        self.ui.openReportButton.connect("clicked()", self.onOpenReport)
        self._updateApplyButton()
        installImportHook()

    def cleanup(self):
        """Called before a Reload replaces this widget (ScriptedLoadableModule.py 5.8.0:117-124)."""
        from DicomDeidentifySlicer import import_hook
        removeObserver = getattr(import_hook, "removeAnonymizeOnImportObserver", None)
        if getattr(self, "_anonymizeObserver", None) is not None and removeObserver is not None:
            removeObserver(self._anonymizeObserver)
        self._anonymizeObserver = None

    def enter(self):
        self._refreshAnonymizeOnImport()
        self.onRefreshReview()

    def _refreshAnonymizeOnImport(self, enabled=None):
        """Show the "Anonymize on import" setting (or `enabled`, as the hook reports it) without
        re-emitting toggled(bool): blockSignals as Slicer 5.8.0 DICOM.py:840-842 (main DICOM.py:1280)."""
        from DicomDeidentifySlicer import import_hook
        box = self.ui.anonymizeOnImportCheckBox
        wasBlocked = box.blockSignals(True)
        try:
            box.checked = import_hook.anonymizeOnImport() if enabled is None else bool(enabled)
        finally:
            box.blockSignals(wasBlocked)

    def _updateApplyButton(self, *unused):
        toFolder = self.ui.targetComboBox.currentIndex == 1
        self.ui.outputDirectorySelector.enabled = toFolder
        self.ui.applyButton.enabled = bool(self.ui.inputDirectorySelector.currentPath
                                           and (self.ui.outputDirectorySelector.currentPath or not toFolder))

    def onKeyFileChanged(self, path):
        # Saved review decisions live beside the key: another key folder has its own.
        # Only the decisions follow the key: options being edited in the panel stay as they are.
        self.logic.setKeyFile(path)
        self.options.review_decisions = self.logic.loadOptions().review_decisions

    # -- the options: the panel shows a DeidentifyOptions and reads one back -----------------------
    # Which widget shows which setting, through which property, is declared with the setting
    # (DicomDeidentifyLib.options: OptionInfo.widget, panel_widgets, panel_values, panel_settings).
    def _showOptions(self, options):
        from DicomDeidentifyLib.options import panel_values
        self.options = options
        for name, prop, value in panel_values(options):
            setattr(getattr(self.ui, name), prop, value)

    def _readOptions(self):
        """The panel's options (the saved review decisions kept) and save them (options into the
        settings, decisions beside the key)."""
        from DicomDeidentifyLib import DeidentifyOptions
        from DicomDeidentifyLib.options import panel_settings, panel_widgets
        shown = {name: getattr(getattr(self.ui, name), prop) for name, (_setting, prop) in panel_widgets().items()}
        try:
            options = DeidentifyOptions.from_dict(panel_settings(self.options, shown))
        except (ValueError, IndexError) as error:
            from DicomDeidentifyLib.errors import ProfileError
            raise ProfileError(_("The profile is not valid: {error}").format(error=error)) from None
        self.logic.saveOptions(options)
        self.options = options
        return options

    @staticmethod
    def _profileFilter():
        # TOML profiles need Python 3.11's tomllib (options.py): Slicer 5.8.0 runs Python 3.9.10
        # (CMakeLists.txt:216), 5.10.0 and main 3.12.10 (:210, :217). Offer *.toml only where it can be
        # read (review C4).
        import importlib.util
        patterns = "*.json *.toml" if importlib.util.find_spec("tomllib") is not None else "*.json"
        return _("Profiles ({patterns})").format(patterns=patterns)

    def onLoadProfile(self):
        path = qt.QFileDialog.getOpenFileName(self.parent, _("Load a de-identification profile"), "",
                                              self._profileFilter())
        if not path:
            return
        from DicomDeidentifyLib import DeidentifyOptions
        with safeErrorDisplay(_("The chosen file is not a profile this module can read."), self.logic.reportsFolder):
            from DicomDeidentifyLib.errors import ProfileError
            try:
                options = DeidentifyOptions.from_file(path)
            except ValueError:
                # not the error's text: for a file that is no profile it would echo the file's keys and
                # values (options.py from_dict), and Slicer logs the popup's text
                raise ProfileError(_("The chosen file is not a valid profile. The command line names the problem: "
                                     "dicom-deidentify anonymize INPUT --output OUT --profile FILE --dry-run")) from None
            self.logic.saveOptions(options)
            self._showOptions(options)

    def onSaveProfile(self):
        path = qt.QFileDialog.getSaveFileName(self.parent, _("Save the de-identification profile"), "",
                                              _("Profile (*.json)"))
        if path:
            with safeErrorDisplay(_("The profile was not saved."), self.logic.reportsFolder):
                self._readOptions().save(path)

    # -- the side database -------------------------------------------------------------------------
    def onShowSideDatabase(self):
        from DicomDeidentifySlicer import import_hook
        with safeErrorDisplay(_("The side database cannot be shown."), self.logic.reportsFolder):
            import_hook.hook().showSideDatabase()

    def onShowMainDatabase(self):
        from DicomDeidentifySlicer import import_hook
        with safeErrorDisplay(_("The main database cannot be shown."), self.logic.reportsFolder):
            import_hook.hook().showMainDatabase()

    # -- de-identify a folder ----------------------------------------------------------------------
    def onApplyButton(self):
        # A popup as Slicer's tryWithErrorDisplay gives (review M13), without the error's text, which
        # Slicer would log and which may name an original file (review N4): DicomDeidentifySlicer.errors.
        with safeErrorDisplay(_("De-identification did not run."), self.logic.reportsFolder):
            options = self._readOptions()
            self.logic.ensurePixelPackages(options)   # asks before the progress dialog shows (review M4)
            self.logic.ensureReportPackages()
            if self.ui.targetComboBox.currentIndex == 0:   # the side database, as an import would
                from DicomDeidentifySlicer import import_hook
                outcome = import_hook.hook().importPaths([self.ui.inputDirectorySelector.currentPath])
                if outcome is not None:
                    self.ui.statusLabel.text = outcome.summary()
                    self._setReport(outcome.run.report_html if outcome.run else None)
                return
            self.logic.setOutputDirectory(self.ui.outputDirectorySelector.currentPath)
            from DicomDeidentifySlicer import import_hook
            from DicomDeidentifySlicer.progress import progressDialog
            # one run at a time with the imports and the release (GateBusy otherwise, review N6)
            with import_hook.hook().exclusiveRun("run"):
                dialog, progress, cancel = progressDialog(_("De-identifying..."))
                try:
                    summary, reportPath = self.logic.deidentifyFolder(
                        self.ui.inputDirectorySelector.currentPath, self.ui.outputDirectorySelector.currentPath,
                        options, progress=progress, cancel=cancel)
                finally:
                    _finishProgressDialog(dialog)
            self._setReport(reportPath)
            totals = summary.totals()
            text = _("{written} written, {skipped} skipped, {failed} failed, {review} items to review.\n"
                     "Report (key holders only): {report}").format(
                written=totals["written"], skipped=totals["skipped"], failed=totals["failed"],
                review=totals["review_items"], report=reportPath)
            self.ui.statusLabel.text = (_("Cancelled: ") + text) if summary.cancelled else text

    def _setReport(self, path):
        self.lastReport = str(path) if path else None
        self.ui.openReportButton.enabled = bool(path)
        self.showCleanedImages(os.path.join(os.path.dirname(path), "report.json") if path else None)

    def showCleanedImages(self, reportJson):
        """The run's cleaned images, before and after side by side (thumbnails written with the report)."""
        from DicomDeidentifyLib.report import cleaned_images
        images = cleaned_images(reportJson) if reportJson and os.path.exists(reportJson) else []
        table = self.ui.cleanedImagesTable
        table.setRowCount(len(images))
        for row, image in enumerate(images):
            status = "" if image["verified"] else "\n" + _("(text still read: check it)")
            table.setItem(row, 0, qt.QTableWidgetItem(os.path.basename(image["source"]) + status))
            for column, picture in ((1, image["before"]), (2, image["after"])):
                label = qt.QLabel()
                if picture:
                    label.setPixmap(qt.QPixmap(picture))
                else:
                    label.text = _("(not kept)")
                table.setCellWidget(row, column, label)
        table.resizeRowsToContents()
        table.resizeColumnsToContents()
        self.ui.cleanedImagesCollapsibleButton.collapsed = not images

    def onOpenReport(self):
        """The run's report: report.html (outcomes, changes, cleaned images before and after, side by side),
        or report.json when the run had no Jinja2 (ensureReportPackages offers it before each run)."""
        if self.lastReport:
            qt.QDesktopServices.openUrl(qt.QUrl.fromLocalFile(self.lastReport))

    # -- review ------------------------------------------------------------------------------------
    _DECISIONS = ["keep", "remove", "edit"]

    def showReview(self, outcome=None):
        """Fill the review table with the held files' kept values (of `outcome`, or all pending)."""
        self.reviewOutcome = outcome if outcome is not None else self.logic.pendingReview()
        rows = self.reviewOutcome.review
        table = self.ui.reviewTable
        table.setRowCount(len(rows))
        labels = [_("keep"), _("remove"), _("edit")]   # in the order of _DECISIONS
        for index, row in enumerate(rows):
            for column, text in enumerate((row.attribute, row.value, str(len(row.files)), row.reason)):
                item = qt.QTableWidgetItem(text)
                item.setFlags(item.flags() & ~qt.Qt.ItemIsEditable)
                table.setItem(index, column, item)
            decision = qt.QComboBox()
            decision.addItems(labels)
            decision.currentIndex = 1   # remove unless the user says otherwise: the safe choice
            table.setCellWidget(index, 4, decision)
            table.setItem(index, 5, qt.QTableWidgetItem(row.value))
        self.ui.reviewCollapsibleButton.collapsed = not rows
        self.ui.releaseButton.enabled = bool(rows)
        held = len(self.reviewOutcome.held)
        self.ui.reviewLabel.text = (
            _("{held} file(s) held back: values below were kept by an option. Decide for each row, then "
              "release.").format(held=held) if held else _("No file is held back for review."))

    def onRefreshReview(self):
        try:
            self.showReview()
        except Exception as error:   # a missing key folder or index: nothing to review (said in the panel)
            self.ui.reviewLabel.text = _("No review available: {error}").format(error=error)

    def onReleaseButton(self):
        from DicomDeidentifyLib.review import ReviewDecision
        if self.reviewOutcome is None:
            return
        with safeErrorDisplay(_("The held files were not released."), self.logic.reportsFolder, waitCursor=True):
            decisions = []
            for index, row in enumerate(self.reviewOutcome.review):
                choice = self._DECISIONS[self.ui.reviewTable.cellWidget(index, 4).currentIndex]
                decisions.append(ReviewDecision(row.attribute, choice, row.value,
                                                self.ui.reviewTable.item(index, 5).text() if choice == "edit" else ""))
            saveDecisions = self.ui.saveDecisionsCheckBox.checked
            from DicomDeidentifySlicer import import_hook
            hook = import_hook.hook()
            # the release indexes into the side database: the hook must not count it as a foreign insert;
            # refused (GateBusy) while an import or another run is in progress (review N6)
            with hook.ownInserts() as own:
                released = self.logic.release(self.reviewOutcome, decisions, saveIntoProfile=saveDecisions)
                if self.logic.sideDatabaseShown():   # indexed into the shown database (N5)
                    own.extend(released)
            if saveDecisions:
                self._showOptions(self.logic.loadOptions())
            self.ui.statusLabel.text = _("{released} file(s) released into the side database and indexed, "
                                         "{discarded} discarded.").format(
                released=len(released), discarded=len(self.reviewOutcome.discarded))
            self.showReview(self.reviewOutcome)

    # -- re-identification -------------------------------------------------------------------------
    def onLookupButton(self):
        try:
            found = self.logic.lookup(self.ui.lookupLineEdit.text)
        except Exception as error:   # no linkage store, or a lookup error: said where the answer goes
            self.ui.lookupResult.plainText = _("No lookup possible: {error}").format(error=error)
            return
        self.ui.lookupResult.plainText = "\n".join(
            ", ".join(f"{k}: {v}" for k, v in entry.items() if v not in (None, "")) for entry in found) or _("Not found.")


class DicomDeidentifyLogic(ScriptedLoadableModuleLogic):
    """Glue between Slicer (settings, the side database's index) and DicomDeidentifyLib."""

    def __init__(self, settingsGroup=SETTINGS_GROUP):
        # Nothing is installed here (review B1, M4): the logic must always be constructible, also
        # offline and under --testing. Clean Pixel Data's packages: ensurePixelPackages().
        ScriptedLoadableModuleLogic.__init__(self)
        self.settingsGroup = settingsGroup

    def _key(self, name):
        return f"{self.settingsGroup}/{name}"

    # -- optional packages (Clean Pixel Data) ------------------------------------------------------
    def ensurePixelPackages(self, options):
        """Offer to install what Clean Pixel Data is missing (Resources/DicomDeidentifyRequirements.txt),
        when `options` use it. The user is asked first; GPL-licensed decoders only with their own yes;
        never under --testing; a failure (offline) or a "no" is remembered for the session, so nothing
        is retried in a loop. The decisions are DicomDeidentifyLib.requirements'. Returns the
        requirements still missing (the run then holds or refuses what it cannot clean)."""
        if not options.clean_pixel_data:
            return []
        from DicomDeidentifyLib import requirements as req
        return self._ensurePackages(req.REQUIREMENTS_FILE_NAME, self._confirmInstall, _(
            "Clean Pixel Data goes on without them (images it cannot clean are held or refused), and they are "
            "not tried again until Slicer restarts."))

    def ensureReportPackages(self):
        """Offer to install Jinja2 (Resources/DicomDeidentifyReportRequirements.txt), which Slicer does not
        bundle, before a run: without it the run writes report.json only, no page. Asked as the pixel
        packages are (DicomDeidentifyLib.requirements.ensure). Returns the requirements still missing."""
        from DicomDeidentifyLib import requirements as req
        return self._ensurePackages(req.REPORT_REQUIREMENTS_FILE_NAME, self._confirmReportInstall, _(
            "The run goes on and writes report.json only (no page with images); it is not tried again until "
            "Slicer restarts."))

    def _ensurePackages(self, fileName, confirm, goesOn):
        from DicomDeidentifyLib import requirements as req
        wanted = req.load_requirements(req.requirements_path(os.path.dirname(os.path.abspath(__file__)), fileName))
        # slicer.app.testingEnabled(): Slicer 5.8.0 util.py:3061 (_messageDisplay) uses it the same way;
        # confirmOkCancelDisplay returns True under --testing (util.py 5.8.0:2992-3004): never asked then.
        outcome = req.ensure(wanted, testing=slicer.app.testingEnabled(), confirm=confirm,
                             install=self._pipInstall)
        if outcome.error is not None:
            slicer.util.warningDisplay(
                _("The packages could not be installed: {error}\n").format(error=outcome.error) + goesOn,
                windowTitle=_("DICOM De-identify"))
        return outcome.missing

    @staticmethod
    def _confirmReportInstall(requirements, licensed):
        from DicomDeidentifyLib import requirements as req
        text = _("The run report's page (outcomes, and cleaned images before and after) needs Jinja2, which is "
                 "not installed yet. Install it now into Slicer's Python (this downloads it from the Python "
                 "Package Index)? Without it, runs write report.json only.")
        # confirmOkCancelDisplay as in _confirmInstall (Slicer 5.8.0 util.py:2992-3004, 5.10.0 :3081, main :3372)
        return slicer.util.confirmOkCancelDisplay(text, _("DICOM De-identify: install packages"),
                                                  detailedText=req.describe(requirements))

    @staticmethod
    def _confirmInstall(requirements, licensed):
        from DicomDeidentifyLib import requirements as req
        if licensed:
            text = _("Decoding some compressed images needs packages under a non-permissive licence (GPL). "
                     "Install them into Slicer's Python too? Without them, such images are held for review "
                     "or refused, never shared uncleaned.")
        else:
            text = _("Clean Pixel Data needs Python packages that are not installed yet. Install them now "
                     "into Slicer's Python (this downloads them from the Python Package Index)? Without them, "
                     "images that cannot be cleaned are held for review or refused.")
        # confirmOkCancelDisplay(text, windowTitle, parent, **kwargs -> messageBox: detailedText):
        # Slicer 5.8.0 util.py:2992-3004 and :3091; 5.10.0 util.py:3081; main util.py:3372.
        return slicer.util.confirmOkCancelDisplay(text, _("DICOM De-identify: install packages"),
                                                  detailedText=req.describe(requirements))

    @staticmethod
    def _pipInstall(requirements):
        from DicomDeidentifyLib.requirements import NO_DEPS, install_commands
        from packaging.utils import canonicalize_name
        specs = [str(r) for r in requirements if canonicalize_name(r.name) not in NO_DEPS]
        for command in install_commands(requirements)[1 if specs else 0:]:   # the --no-deps ones
            # pip_install with a list of arguments: 5.8.0 util.py:3899-3910, 5.10.0 util.py:3991,
            # main util.py:4470 (packaging.py:935-960 passes the list to pip as it is)
            slicer.util.pip_install(command)
        if not specs:
            return
        try:
            import slicer.packaging as packaging   # Slicer main only (Base/Python/slicer/packaging.py)
        except ImportError:
            packaging = None
        if packaging is not None and hasattr(packaging, "pip_ensure"):
            # Slicer 583e9b37 packaging.py:327-336: pip_ensure(requirements, constraints, skip_packages,
            # prompt_install, prompt_restart, requester, skip_in_testing, show_progress); the user was
            # asked above (with purposes and licences), so its own prompt is off. Raises
            # CalledProcessError on failure (packaging.py:377, :784).
            packaging.pip_ensure(specs, prompt_install=False, requester=_("DICOM De-identify"))
        else:
            # Slicer 5.8.0 util.py:3899 / 5.10.0 util.py:3991: pip_install(requirements) with a string or
            # a list of arguments; blocking; pip's failure raises CalledProcessError (5.8.0 util.py:3830-3862
            # logProcessOutput) or RuntimeError (no PythonSlicer, util.py:3884).
            slicer.util.pip_install(specs)

    # -- settings ----------------------------------------------------------------------------------
    def loadOptions(self):
        """The profile: its options from Slicer's settings, its review decisions from beside the key
        (review M16: decisions can hold identifying values; they never go into Slicer.ini)."""
        from DicomDeidentifyLib import DeidentifyOptions
        from DicomDeidentifyLib import review_store
        settings = slicer.app.userSettings()
        saved = settings.value(self._key(SETTINGS_PROFILE), "")
        try:
            options = DeidentifyOptions.from_json(saved) if saved else DeidentifyOptions()
        except ValueError:
            options = DeidentifyOptions()   # a profile saved by another version: start from the basic profile
        store = review_store.review_store_path(self.keyFile())
        try:
            if options.review_decisions:   # saved into the settings by an earlier version: move them out
                review_store.add_decisions(store, options.review_decisions)
                settings.setValue(self._key(SETTINGS_PROFILE), review_store.settings_profile(options))
            options.review_decisions = review_store.load_decisions(store)
        except (OSError, ValueError) as error:
            from DicomDeidentifyLib.errors import shown_text
            logging.warning("DicomDeidentify: saved review decisions not used: %s", shown_text(error))
            options.review_decisions = ()
        return options

    def saveOptions(self, options):
        """Options into Slicer's settings, review decisions (which may hold values) beside the key."""
        from DicomDeidentifyLib import review_store
        slicer.app.userSettings().setValue(self._key(SETTINGS_PROFILE), review_store.settings_profile(options))
        review_store.save_decisions(review_store.review_store_path(self.keyFile()), options.review_decisions)

    def reportsFolder(self):
        """The key holders' folder of reports and failure notes (beside the key)."""
        from DicomDeidentifyLib.runs import reports_folder
        return reports_folder(self.keyFile())

    def keyFile(self):
        from DicomDeidentifyLib.keys import default_key_file
        return slicer.app.userSettings().value(self._key(SETTINGS_KEY_FILE), str(default_key_file()))

    def setKeyFile(self, path):
        slicer.app.userSettings().setValue(self._key(SETTINGS_KEY_FILE), str(path))

    def sideDatabaseDirectory(self):
        default = os.path.join(qt.QStandardPaths.writableLocation(qt.QStandardPaths.DocumentsLocation),
                               slicer.app.applicationName + "DICOMDatabase-deidentified")
        return slicer.app.userSettings().value(self._key(SETTINGS_SIDE_DATABASE), default)

    def setSideDatabaseDirectory(self, path):
        slicer.app.userSettings().setValue(self._key(SETTINGS_SIDE_DATABASE), str(path))

    def outputDirectory(self):
        return slicer.app.userSettings().value(self._key(SETTINGS_OUTPUT), "")

    def setOutputDirectory(self, path):
        slicer.app.userSettings().setValue(self._key(SETTINGS_OUTPUT), str(path))

    def linkageEnabled(self):
        return slicer.app.userSettings().value(self._key(SETTINGS_LINKAGE), "true") == "true"

    def setLinkageEnabled(self, enabled):
        slicer.app.userSettings().setValue(self._key(SETTINGS_LINKAGE), "true" if enabled else "false")

    # -- runs --------------------------------------------------------------------------------------
    def deidentifyFolder(self, inputFolder, outputFolder, options=None, keyFile=None, progress=None, cancel=None,
                         sideDatabase=False, linkage=None):
        """De-identify every file under inputFolder into outputFolder: (RunSummary, report path).
        The same run as the command line's: key, linkage store and report beside the key."""
        from DicomDeidentifyLib.runs import deidentify_folder
        keyFile = keyFile or self.keyFile()
        options = options or self.loadOptions()
        self.ensurePixelPackages(options)
        self.ensureReportPackages()
        # One process inside Slicer: worker processes would each start a copy of the application.
        # A missing key is created on first use of its location only (keys.may_create_key, the library's rule).
        run = deidentify_folder([inputFolder], outputFolder, options, key_file=keyFile, side_database=sideDatabase,
                                linkage=self.linkageEnabled() if linkage is None else linkage, jobs=1,
                                progress=progress, cancel=cancel)
        # The key file setting is the panel's (keyFileSelector) alone: a run with another key, e.g. the
        # self-test's temporary one, must not repoint the user's setting (review M10).
        return run.summary, str(run.report_html)

    def importController(self):
        from DicomDeidentifyLib.import_controller import ImportController
        return ImportController(self.sideDatabaseDirectory(), self.loadOptions(), key_file=self.keyFile(),
                                linkage=self.linkageEnabled())   # a missing key: keys.may_create_key decides

    def importPaths(self, paths, progress=None, cancel=None):
        """De-identify `paths` into the side database and index what was released; the ImportOutcome."""
        self.ensureSideDatabase()
        controller = self.importController()
        self.ensurePixelPackages(controller.options)
        self.ensureReportPackages()
        outcome = controller.import_paths(paths, progress=progress, cancel=cancel)
        self.indexIntoSideDatabase(outcome.released)
        return outcome

    def pendingReview(self):
        return self.importController().pending()

    def release(self, outcome, decisions, saveIntoProfile=False):
        """Apply review decisions to held files, index those released; with saveIntoProfile, the
        decisions are kept for the next runs, beside the key (never in Slicer's settings)."""
        from DicomDeidentifyLib import review_store
        released = self.importController().release(outcome, decisions)
        if saveIntoProfile:
            review_store.add_decisions(review_store.review_store_path(self.keyFile()), decisions)
        self.indexIntoSideDatabase(released)
        return released

    def lookup(self, term):
        """Key holders: the original identity behind a pseudonym or a new UID (PHI!)."""
        from DicomDeidentifyLib.linkage import LinkageStore, linkage_path
        from pathlib import Path
        path = linkage_path(Path(self.keyFile()))
        if not path.exists():
            raise FileNotFoundError(f"no linkage store at {path}")
        store = LinkageStore(path)
        try:
            return store.lookup(term)
        finally:
            store.close()

    # -- the side database's index -----------------------------------------------------------------
    def ensureSideDatabase(self):
        """The side database folder, marked and with a ctkDICOMDatabase index (created if new)."""
        import ctk
        from DicomDeidentifyLib.import_routing import absolute_from_internal
        from DicomDeidentifyLib.side_database import mark_side_database
        from pathlib import Path
        folder = self.sideDatabaseDirectory()
        # Slicer's main database: the key may hold a path relative to Slicer's home (the main browser's
        # databaseDirectoryBase is slicerHome, qSlicerApplication.cxx 5.8.0:1393, main:1416; slicerHome is a
        # Q_PROPERTY of qSlicerCoreApplication, .h:75 in 5.8.0, 5.10.0 and main).
        recorded = slicer.app.userSettings().value(slicer.dicomDatabaseDirectorySettingsKey)
        main = absolute_from_internal(str(recorded), slicer.app.slicerHome) if recorded else None
        # Refuses (SideDatabaseRefused, nothing written) Slicer's main database, a folder with a
        # ctkDICOM.sql and no marker, or other content; marks a new or empty folder (review N2).
        mark_side_database(Path(folder), main_database=main)
        if self.sideDatabaseShown():
            return folder   # slicer.dicomDatabase has it open: no second connection (review M15)
        database = ctk.ctkDICOMDatabase()
        if not database.openDatabase(os.path.join(folder, CTK_DATABASE_FILE)):
            raise RuntimeError(f"the side database in {folder} cannot be opened")
        database.closeDatabase()
        return folder

    def indexIntoSideDatabase(self, files):
        """Index de-identified files into the side database (never Slicer's main one). They already
        live in the side database folder, so they are indexed in place (copy off)."""
        if not files:
            return
        import ctk
        files = [str(f) for f in files]
        indexer = ctk.ctkDICOMIndexer()
        # ctkDICOMIndexer::addListOfFiles(ctkDICOMDatabase*, const QStringList&, bool copyFile) sets the
        # database, then indexes, waiting when background import is off (the default): CTK 82cae578 and
        # dd4caeae ctkDICOMIndexer.h:102, .cpp:499-520, :294; CTK 5056664a .h:102, .cpp:505-524, :295.
        if self.sideDatabaseShown():
            # The browser shows it: hand the indexer slicer.dicomDatabase, whose tagsToPrecache the DICOM
            # module set (Slicer 583e9b37 DICOM.py:328-333), and emit its databaseChanged() afterwards
            # (review M15). The indexer's worker opens a private ctkDICOMDatabase on the same file
            # anyway (ctkDICOMIndexer.cpp 82cae578:89-92); setDatabase only passes it the file name and
            # tagsToPrecache (:363-392) (NC3).
            indexer.addListOfFiles(slicer.dicomDatabase, files, False)
            indexer.waitForImportFinished()
            slicer.dicomDatabase.databaseChanged()   # let the browser refresh, as DICOM.py emits it
            return
        database = ctk.ctkDICOMDatabase()
        if not database.openDatabase(os.path.join(self.ensureSideDatabase(), CTK_DATABASE_FILE)):
            raise RuntimeError("the side database cannot be opened")
        try:
            # Q_PROPERTY(QStringList tagsToPrecache ...): CTK 82cae578 ctkDICOMDatabase.h:64, dd4caeae :63,
            # 5056664a :67; read and written as a property the way DICOM.py does (5.8.0 DICOM.py:181-186).
            # The indexer's worker takes them over (ctkDICOMIndexer.cpp 82cae578:383, :91), so Examine
            # later finds the tags the DICOM plugins need already cached.
            if slicer.dicomDatabase is not None:
                database.tagsToPrecache = list(slicer.dicomDatabase.tagsToPrecache)
            indexer.addListOfFiles(database, files, False)
            indexer.waitForImportFinished()
        finally:
            database.closeDatabase()

    def sideDatabaseShown(self):
        """Whether slicer.dicomDatabase is open on the configured side database (not another one)."""
        from DicomDeidentifyLib.import_routing import shows_folder
        database = slicer.dicomDatabase
        shown = database.databaseDirectory if database is not None and database.isOpen else None
        return shows_folder(shown, self.sideDatabaseDirectory())


class DicomDeidentifyTest(ScriptedLoadableModuleTest):
    """Developer mode on, then Reload and Test in this module's panel (or ctest py_DicomDeidentify).

    Hermetic: each test uses a temporary key folder, side database and main database, the basic
    profile and a settings group of its own; the user's settings are put back exactly (every key a
    test touches, also those that did not exist), the session's import hook gets back the logic it
    had (N3) and every observer of "Anonymize on import" is told the restored value (N8); under
    --testing the user's real main DICOM database is never opened. Each test asserts what could fail: no original name, ID or UID in the
    outputs, the side database's files and index, or the loaded scene; the main database unchanged."""

    SETTINGS_TEST_GROUP = "DicomDeidentifySelfTest"

    def setUp(self):
        slicer.mrmlScene.Clear(0)

    def runTest(self):
        self.setUp()
        self.test_DeidentifyFolderOfPydicomFiles()
        self.setUp()
        self.test_AnonymizeOnImport()

    def _pydicomFiles(self, folder, names=("CT_small.dcm", "MR_small.dcm")):
        """Copies of pydicom's test files, and the identifying values none of their outputs may hold."""
        import shutil
        import pydicom
        from pydicom.data import get_testdata_file
        folder.mkdir(parents=True)
        identifying = set()
        for name in names:
            source = get_testdata_file(name)
            self.assertIsNotNone(source, f"pydicom's test file {name} is missing")
            shutil.copy(source, folder / name)
            ds = pydicom.dcmread(str(folder / name))
            for keyword in ("PatientName", "PatientID", "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"):
                value = str(ds.get(keyword, "") or "")
                if value:
                    identifying.add(value)
        self.assertGreaterEqual(len(identifying), 5 * len(names) - 1)   # the check below checks something
        return identifying

    def _assertNoneIn(self, data, identifying, where):
        for value in identifying:
            self.assertNotIn(value.encode(), data, f"{value!r} found in {where}")

    def _logic(self, work):
        from DicomDeidentifyLib import DeidentifyOptions
        logic = DicomDeidentifyLogic(settingsGroup=self.SETTINGS_TEST_GROUP)
        logic.setKeyFile(str(work / "secrets" / "pseudonym.key"))
        logic.setSideDatabaseDirectory(str(work / "side"))
        logic.saveOptions(DeidentifyOptions())   # the basic profile, whatever the user saved
        return logic

    def test_DeidentifyFolderOfPydicomFiles(self):
        import shutil
        import tempfile
        from pathlib import Path
        import pydicom
        from DicomDeidentifyLib import DeidentifyOptions
        from DicomDeidentifyLib.settings_snapshot import SettingsSnapshot
        settings = slicer.app.userSettings()
        snapshot = SettingsSnapshot(settings, [SETTINGS_GROUP, self.SETTINGS_TEST_GROUP])
        userKeyFile = (settings.contains(f"{SETTINGS_GROUP}/{SETTINGS_KEY_FILE}"),
                       settings.value(f"{SETTINGS_GROUP}/{SETTINGS_KEY_FILE}"))
        work = Path(tempfile.mkdtemp(prefix="DicomDeidentifyTest-"))
        try:
            identifying = self._pydicomFiles(work / "in")
            logic = self._logic(work)
            summary, report = logic.deidentifyFolder(str(work / "in"), str(work / "out"), DeidentifyOptions(),
                                                     keyFile=logic.keyFile())
            self.assertEqual(summary.count("written"), 2)
            self.assertTrue(os.path.exists(report))
            self.assertTrue(Path(report).resolve().is_relative_to((work / "secrets").resolve()))
            self.assertTrue((work / "secrets" / "pseudonym.key").exists())
            outputs = [path for path in (work / "out").rglob("*") if path.is_file()]
            self.assertEqual(len(outputs), 2)
            for output in outputs:
                self.assertEqual(pydicom.dcmread(str(output)).PatientIdentityRemoved, "YES")
                self._assertNoneIn(output.read_bytes(), identifying, output.name)
            # The user's key-file setting is not repointed at the temporary key (review M10).
            self.assertEqual((settings.contains(f"{SETTINGS_GROUP}/{SETTINGS_KEY_FILE}"),
                              settings.value(f"{SETTINGS_GROUP}/{SETTINGS_KEY_FILE}")), userKeyFile)
            self.delayDisplay("DicomDeidentify self-test passed")
        finally:
            snapshot.restore()
            shutil.rmtree(work, ignore_errors=True)

    def _databaseFiles(self, database):
        """Every file the database indexes: patients -> studiesForPatient -> seriesForStudy ->
        filesForSeries (CTK 82cae578 ctkDICOMDatabase.h:167-181, dd4caeae :166-180, 5056664a :170-184;
        there is no filesForPatient, review B4)."""
        files = []
        for patient in database.patients():
            for study in database.studiesForPatient(patient):
                for series in database.seriesForStudy(study):
                    files += list(database.filesForSeries(series))
        return files

    def _sceneText(self):
        """The scene as MRML XML (vtkMRMLScene SetSaveToXMLString/Commit/GetSceneXMLString,
        Libs/MRML/Core/vtkMRMLScene.h 5.8.0:100, 515, 531; main :103, 536, 552) with the subject
        hierarchy's item names and DICOM attributes."""
        import vtk
        scene = slicer.mrmlScene
        scene.SetSaveToXMLString(1)
        try:
            scene.Commit()
            text = scene.GetSceneXMLString()
        finally:
            scene.SetSaveToXMLString(0)
        # vtkMRMLSubjectHierarchyNode.h 5.8.0:127-273, main :129-275
        shNode = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)
        items = vtk.vtkIdList()
        shNode.GetItemChildren(shNode.GetSceneItemID(), items, True)
        names = []
        for index in range(items.GetNumberOfIds()):
            item = items.GetId(index)
            names += [shNode.GetItemName(item), shNode.GetItemAttribute(item, "DICOM.PatientName"),
                      shNode.GetItemAttribute(item, "DICOM.PatientID")]
        return text, [name for name in names if name]

    def test_AnonymizeOnImport(self):
        """Tick the option, import through the DICOM module's own entry point, check both databases,
        load a series: the side database and the scene hold pseudonyms only, the main one got nothing."""
        import shutil
        import tempfile
        from pathlib import Path
        from DICOMLib import DICOMUtils
        from DicomDeidentifyLib.settings_snapshot import SettingsSnapshot
        from DicomDeidentifySlicer import import_hook
        settings = slicer.app.userSettings()
        # the legacy key of earlier versions, which showMainDatabase removes (M5): put back by the snapshot
        mainDatabaseKey = import_hook.SETTINGS_MAIN_DATABASE
        # slicer.dicomDatabaseDirectorySettingsKey: "DatabaseDirectoryTest_<schema>" under --testing
        # (review §7); the browsers write it when switching databases (ctkDICOMBrowser.cpp:644-650).
        snapshot = SettingsSnapshot(settings, [SETTINGS_GROUP, self.SETTINGS_TEST_GROUP], [
            import_hook.SETTINGS_ANONYMIZE_ON_IMPORT, mainDatabaseKey, slicer.dicomDatabaseDirectorySettingsKey])
        work = Path(tempfile.mkdtemp(prefix="DicomDeidentifyImportTest-"))
        hook, userLogic = None, None   # set before anything can fail, so that finally can restore
        try:
            identifying = self._pydicomFiles(work / "cd")
            logic = self._logic(work)
            slicer.util.selectModule("DICOM")
            hook = import_hook.hook()
            # The session's hook runs on the user's settings (logic None) or on a logic a script set:
            # put exactly that back at the end (review N3), even None.
            userLogic, hook.logic = hook.logic, logic
            self.assertTrue(hook.ensureInstalled(), "the DICOM module's browser was not found")
            # A temporary main database, opened as slicer.dicomDatabase and recorded under Slicer's key;
            # on exit the database recorded before is reopened (DICOMUtils.py 5.8.0:352-483, main :356-487).
            with DICOMUtils.TemporaryDICOMDatabase(str(work / "main")) as mainDatabase:
                mainDirectory = mainDatabase.databaseDirectory   # "Show main database" comes back here (NC4)
                mainBefore = (list(mainDatabase.patients()), sorted(mainDatabase.allFiles()))
                import_hook.setAnonymizeOnImport(True)
                self.assertTrue(import_hook.anonymizeOnImport())
                slicer.modules.DICOMWidget.browserWidget.importDirectory(str(work / "cd"))   # as Add Data does
                # routed importDirectory calls are gathered (Add Data makes one per file) and run by a
                # timer once they stop: run them now
                hook.flushPendingImports()
                self.assertTrue(hook.sideDatabaseShown())
                side = slicer.dicomDatabase
                files = self._databaseFiles(side)
                self.assertEqual(len(files), 2)
                for path in files:
                    self.assertTrue(Path(path).resolve().is_relative_to((work / "side").resolve()), path)
                for path in (work / "side").rglob("*"):   # the files, the index (ctkDICOM.sql), the marker
                    if path.is_file():
                        self._assertNoneIn(path.read_bytes(), identifying, f"the side database's {path.name}")
                series = side.seriesForStudy(side.studiesForPatient(side.patients()[0])[0])[0]
                self.assertTrue(DICOMUtils.loadSeriesByUID([series]))
                sceneText, names = self._sceneText()
                self.assertTrue(names, "the loaded series has no subject hierarchy items")
                self._assertNoneIn(sceneText.encode(), identifying, "the scene")
                self._assertNoneIn("\n".join(names).encode(), identifying, "the subject hierarchy")
                # Review N1: with the side database shown and the option off, Slicer's own import (which
                # would index and copy the originals into the shown database) is refused.
                import_hook.setAnonymizeOnImport(False)
                refusals = []   # the refusal's warning box would wait for a click in an interactive run
                hook.refuseOriginals = lambda: refusals.append(True)   # ImportHook is a plain Python class
                try:
                    slicer.modules.DICOMWidget.browserWidget.importDirectory(str(work / "cd"))
                    hook.flushPendingImports()
                finally:
                    del hook.refuseOriginals
                self.assertEqual(refusals, [True], "the import of originals into the side database was not refused")
                self.assertTrue(hook.sideDatabaseShown())
                self.assertEqual(sorted(self._databaseFiles(slicer.dicomDatabase)), sorted(files))
                # Review N5: another side database configured -> "Show side database" switches to it.
                logic.setSideDatabaseDirectory(str(work / "side2"))
                hook.showSideDatabase()
                self.assertTrue(os.path.samefile(slicer.dicomDatabase.databaseDirectory, work / "side2"))
                logic.setSideDatabaseDirectory(str(work / "side"))
                hook.showSideDatabase()
                self.assertTrue(os.path.samefile(slicer.dicomDatabase.databaseDirectory, work / "side"))
                hook.showMainDatabase()
                self.assertFalse(hook.sideDatabaseShown())
                self.assertTrue(os.path.samefile(slicer.dicomDatabase.databaseDirectory, mainDirectory))
                self.assertEqual((list(slicer.dicomDatabase.patients()), sorted(slicer.dicomDatabase.allFiles())),
                                 mainBefore)   # the main database got nothing
            self.delayDisplay("Anonymize on import self-test passed")
        finally:
            if hook is not None:
                hook.logic = userLogic   # also None: the session's hook on the user's settings (N3)
            snapshot.restore()
            # the restore wrote "Anonymize on import" back directly: every observer (the panel's
            # checkbox, the menu entry, the indicator) shows the user's value again (review N8)
            import_hook.notifyAnonymizeOnImport()
            if hook is not None:
                hook.updateControls()
            shutil.rmtree(work, ignore_errors=True)
